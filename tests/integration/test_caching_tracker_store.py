"""The caching tracker store writes exactly the rows Rasa's SQL store writes, on SQLite and on a real
PostgreSQL, and stays correct when two instances share the database and take turns in one conversation.

The conversations are scripted (events with fixed timestamps, as Rasa's processor appends them), so the
stored rows of both stores can be compared byte for byte; the trackers they hand out must give the policies
the same recent states and the same slots, however long the conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from stores.caching_sql import WINDOW_MAX_TURNS, CachingSQLTrackerStore
from tests import servers
from tests.integration import stores

REPO = servers.REPO
DOMAIN = Domain.load(REPO / "domain.yml")
TOPICS = ["ask_what_is_beta_gouv", "ask_team_roles", "ask_what_is_intrapreneur", "ask_funding"]
# Long enough for the cache to trim its window several times.
TURNS = 3 * WINDOW_MAX_TURNS + 5
# A turn after which a new session starts (the topic is carried over, as session_config asks).
NEW_SESSION_AFTER = 30
StoreFactory = Callable[[type[SQLTrackerStore]], SQLTrackerStore]


def turn_events(number: int) -> list[Event]:
    """What Rasa's processor appends for one question answered with its topic and links."""
    topic = TOPICS[number % len(TOPICS)]
    at = 1_700_000_000.0 + number * 10
    events: list[Event] = []
    if number == NEW_SESSION_AFTER:
        events += [
            ActionExecuted("action_session_start", timestamp=at),
            SessionStarted(timestamp=at + 0.1),
            SlotSet("topic", TOPICS[(number - 1) % len(TOPICS)], timestamp=at + 0.2),
            ActionExecuted("action_listen", timestamp=at + 0.3),
        ]
    return [
        *events,
        UserUttered(
            f"question {number}",
            intent={"name": topic, "confidence": 0.93},
            parse_data={
                "intent": {"name": topic, "confidence": 0.93},
                "entities": [],
                "text": f"question {number}",
            },
            timestamp=at + 1,
        ),
        SlotSet("topic", topic, timestamp=at + 2),
        ActionExecuted(f"utter_{topic}", policy="RulePolicy", confidence=1.0, timestamp=at + 3),
        BotUttered(
            f"réponse {number}", {"elements": None}, {"utter_action": f"utter_{topic}"}, timestamp=at + 4
        ),
        ActionExecuted("action_topic_links", policy="RulePolicy", confidence=1.0, timestamp=at + 5),
        ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0, timestamp=at + 6),
    ]


async def handle_turn(store: SQLTrackerStore, sender: str, number: int) -> DialogueStateTracker:
    """As Rasa's processor does: fetch (or create) the tracker, append the turn's events, save."""
    tracker = await store.retrieve(sender)
    if tracker is None:
        # store.create_tracker, with a fixed timestamp.
        tracker = store.init_tracker(sender)
        tracker.update(ActionExecuted("action_listen", timestamp=1_699_999_998.0))
        await store.save(tracker)
        for event in (
            ActionExecuted("action_session_start", timestamp=1_699_999_999.0),
            SessionStarted(timestamp=1_699_999_999.1),
            ActionExecuted("action_listen", timestamp=1_699_999_999.2),
        ):
            tracker.update(event)
    for event in turn_events(number):
        tracker.update(event)
    await store.save(tracker)
    return tracker


def stored_rows(store: SQLTrackerStore, sender: str) -> list[tuple]:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT type_name, timestamp, intent_name, action_name, data FROM events"
                " WHERE sender_id = :sender ORDER BY id"
            ),
            {"sender": sender},
        ).fetchall()


def recent_states(tracker: DialogueStateTracker) -> list:
    return tracker.past_states(DOMAIN)[-4:]


@pytest.fixture(scope="module")
def postgresql() -> Iterator[stores.Service]:
    with stores.postgresql("postgresql-tracker-cache") as service:
        yield service


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Stores of a given class on a fresh database of the parametrised kind (every call: a new instance)."""
    if request.param == "sqlite":
        settings = {"dialect": "sqlite", "db": str(tmp_path / "conversations.db")}
    else:
        service = request.getfixturevalue("postgresql")
        host, port = service.address
        # One database per test: the same table, empty.
        database = f"test_{abs(hash(request.node.name))}"
        import psycopg2

        connection = psycopg2.connect(host=host, port=port, user=stores.PG_USER, dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {database}")
        connection.close()
        settings = {
            "dialect": "postgresql",
            "host": host,
            "port": port,
            "db": database,
            "username": stores.PG_USER,
        }

    def make(store_class: type[SQLTrackerStore]) -> SQLTrackerStore:
        return store_class(domain=DOMAIN, **settings)

    return make


def test_writes_the_same_rows_as_rasas_store_and_hands_out_the_same_state(make_store: StoreFactory) -> None:
    stock, caching = make_store(SQLTrackerStore), make_store(CachingSQLTrackerStore)

    async def run() -> None:
        for number in range(TURNS):
            await handle_turn(stock, "stock", number)
            await handle_turn(caching, "cached", number)
            expected, got = await stock.retrieve("stock"), await caching.retrieve("cached")
            assert got is not None and expected is not None
            assert got.current_slot_values() == expected.current_slot_values()
            assert recent_states(got) == recent_states(expected), f"turn {number}"
            assert got.latest_message.intent == expected.latest_message.intent

    asyncio.run(run())
    assert stored_rows(caching, "cached") == stored_rows(stock, "stock")
    assert len(stored_rows(stock, "stock")) > TURNS * 5


def test_hands_out_a_bounded_window_of_a_long_conversation(make_store: StoreFactory) -> None:
    stock, caching = make_store(SQLTrackerStore), make_store(CachingSQLTrackerStore)

    async def run() -> tuple[DialogueStateTracker | None, DialogueStateTracker | None]:
        for number in range(NEW_SESSION_AFTER):
            await handle_turn(stock, "long", number)
            await handle_turn(caching, "long", number)
        return await stock.retrieve("long"), await caching.retrieve("long")

    full, windowed = asyncio.run(run())
    assert full is not None and windowed is not None
    user_turns = sum(isinstance(event, UserUttered) for event in windowed.events)
    assert user_turns <= WINDOW_MAX_TURNS < NEW_SESSION_AFTER
    assert recent_states(windowed) == recent_states(full)


def test_two_instances_taking_turns_in_one_conversation_stay_consistent(make_store: StoreFactory) -> None:
    """Each instance must read what the other wrote since it last saw the conversation (cache checked against
    the last stored event), or it would hand out a stale tracker and store a wrong continuation."""
    stock = make_store(SQLTrackerStore)
    first, second = make_store(CachingSQLTrackerStore), make_store(CachingSQLTrackerStore)
    # Irregular alternation: runs of several turns on one instance, then the other.
    schedule = [first if (number // 3 + number % 2) % 2 else second for number in range(TURNS)]

    async def run() -> None:
        for number, instance in enumerate(schedule):
            await handle_turn(stock, "reference", number)
            await handle_turn(instance, "shared", number)
            expected = await stock.retrieve("reference")
            for reader in (first, second):
                got = await reader.retrieve("shared")
                assert got is not None and expected is not None
                assert got.current_slot_values() == expected.current_slot_values(), f"turn {number}"
                assert recent_states(got) == recent_states(expected), f"turn {number}"

    asyncio.run(run())
    assert stored_rows(first, "shared") == stored_rows(stock, "reference")


def test_the_cache_is_bounded_and_an_evicted_conversation_is_read_back(make_store: StoreFactory) -> None:
    stock = make_store(SQLTrackerStore)
    caching = make_store(CachingSQLTrackerStore)
    caching.cache_size = 2
    senders = ["a", "b", "c"]

    async def run() -> None:
        for number in range(8):
            for sender in senders:
                await handle_turn(stock, sender, number)
                await handle_turn(caching, sender, number)
                assert len(caching._cache) <= 2

    asyncio.run(run())
    for sender in senders:
        assert stored_rows(caching, sender) == stored_rows(stock, sender)


def test_a_deleted_conversation_is_never_handed_out_from_the_cache(make_store: StoreFactory) -> None:
    """`make purge` deletes old conversations from another process: the cache must not bring them back."""
    caching = make_store(CachingSQLTrackerStore)

    async def run() -> tuple[DialogueStateTracker | None, DialogueStateTracker | None]:
        for number in range(3):
            await handle_turn(caching, "purged", number)
        before = await caching.retrieve("purged")
        with caching.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'purged'"))
        return before, await caching.retrieve("purged")

    before, after = asyncio.run(run())
    assert before is not None
    assert after is None
