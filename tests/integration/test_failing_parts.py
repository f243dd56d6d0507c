"""When a part fails, the assistant degrades and recovers without a restart.

- Action server stopped: every topic whose answer needs no custom action is still answered; the others get
  the guard's apology; nothing hangs. Back up: everything works again, Rasa untouched.
- Action server frozen: the apology comes after BIENVENUE_REPLY_TIMEOUT_S instead of Rasa's 5-minute wait.
- Tracker store database unavailable (SQLite file gone, PostgreSQL stopped): a clear error (503 and the
  guard's French message) while it is down, the conversation goes on once it is back.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
import yaml

from channels import guard
from tests import servers
from tests.integration import stores
from tests.integration.robustness import (
    answered,
    assert_answer,
    domain_responses,
    post,
    says,
    texts,
    user_texts,
)

# Long enough for any normal turn on a busy machine; only a frozen action server reaches it.
REPLY_TIMEOUT_S = 15


@pytest.fixture(scope="module")
def actions() -> Iterator[servers.Server]:
    with servers.running(servers.action_server(name="actions-failing")) as server:
        yield server


def action_url(actions: servers.Server) -> str:
    return actions.webhook_url


@pytest.fixture(scope="module")
def rasa_url(actions: servers.Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("failing-actions")
    endpoints = servers.sqlite_endpoints(directory, action_url(actions), directory / "conversations.db")
    env = {guard.REPLY_TIMEOUT_ENV: str(REPLY_TIMEOUT_S)}
    with servers.running(servers.rasa_server(endpoints, name="rasa-failing-actions", env=env)) as server:
        yield server.ready_url.rstrip("/")


def topics_answered_by_a_response() -> list[str]:
    """Topic intents answered by their own utter_<intent> (the custom action after it only adds links)."""
    domain = yaml.safe_load((servers.REPO / "domain.yml").read_text(encoding="utf-8"))
    return [
        intent
        for intent in domain["intents"]
        if intent.startswith("ask_") and f"utter_{intent}" in domain_responses()
    ]


# Payloads whose whole answer comes from a custom action.
NEEDS_AN_ACTION = [
    "/ask_incubator_list",
    "/inform_administration",
    "/followup_duration",
    "/ask_more_details",
    "/ask_link",
    "/nlu_fallback",
]


@contextmanager
def stopped(server: servers.Server) -> Iterator[None]:
    server.stop()
    try:
        yield
    finally:
        server.start()


def test_without_the_action_server_topics_are_answered_and_the_rest_apologises(
    actions: servers.Server, rasa_url: str
) -> None:
    sender = "failing-actions"
    topics = topics_answered_by_a_response()
    assert len(topics) >= 15, topics
    with stopped(actions):
        for topic in topics:
            replies = assert_answer(post(rasa_url, {"sender": sender, "message": f"/{topic}"}), sender)
            assert says(replies, f"utter_{topic}"), (topic, texts(replies))
        assert says(
            assert_answer(post(rasa_url, {"sender": sender, "message": "/greet"}), sender), "utter_greet"
        )
        for payload in NEEDS_AN_ACTION:
            replies = answered(post(rasa_url, {"sender": sender, "message": payload}), sender)
            assert texts(replies) == [guard.NO_REPLY_APOLOGY], payload

    # Back, and Rasa was not restarted: custom actions answer again.
    replies = assert_answer(post(rasa_url, {"sender": sender, "message": "/ask_what_is_beta_gouv"}), sender)
    assert says(replies, "utter_ask_what_is_beta_gouv")
    assert any("](https://" in text for text in texts(replies)), "the topic's links are back"
    assert_answer(post(rasa_url, {"sender": sender, "message": "/ask_incubator_list"}), sender)


@contextmanager
def frozen(server: servers.Server) -> Iterator[None]:
    """The process is there and accepts connections, but never answers: a hung server."""
    assert server.process is not None
    os.killpg(server.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(server.process.pid, signal.SIGCONT)


def test_a_frozen_action_server_gets_the_apology_instead_of_a_hang(
    actions: servers.Server, rasa_url: str
) -> None:
    with frozen(actions):
        replies = answered(
            post(rasa_url, {"sender": "failing-frozen", "message": "/ask_incubator_list"}), "failing-frozen"
        )
        assert texts(replies) == [guard.NO_REPLY_APOLOGY]
        # The answer itself was sent before the links' action hung: the user has it, without apology.
        replies = assert_answer(
            post(rasa_url, {"sender": "failing-frozen-2", "message": "/ask_team_roles"}), "failing-frozen-2"
        )
        assert says(replies, "utter_ask_team_roles")
    assert_answer(
        post(rasa_url, {"sender": "failing-frozen-3", "message": "/ask_incubator_list"}), "failing-frozen-3"
    )


# --- tracker store --------------------------------------------------------------------------------------


@dataclass
class Store:
    url: str
    outage: Callable[[], AbstractContextManager[None]]
    user_texts: Callable[[str], list[str]]


@contextmanager
def sqlite_file_gone(db: Path) -> Iterator[None]:
    """The database file replaced by a directory: SQLite cannot open it (whatever the user, even root)."""
    away = db.with_name(db.name + ".away")
    db.rename(away)
    db.mkdir()
    try:
        yield
    finally:
        db.rmdir()
        away.rename(db)


@contextmanager
def sqlite_store(actions: servers.Server, directory: Path) -> Iterator[Store]:
    db = directory / "conversations.db"
    endpoints = servers.sqlite_endpoints(directory, action_url(actions), db)
    with servers.running(servers.rasa_server(endpoints, name="rasa-failing-sqlite")) as rasa:
        yield Store(
            rasa.ready_url.rstrip("/"), lambda: sqlite_file_gone(db), lambda sender: user_texts(db, sender)
        )


def postgresql_user_texts(pg: stores.Service, sender: str) -> list[str]:
    host, port = pg.address
    connection = psycopg2.connect(host=host, port=port, user=stores.PG_USER, dbname=stores.PG_DATABASE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id", (sender,)
            )
            rows = cursor.fetchall()
    finally:
        connection.close()
    return [json.loads(data)["text"] for (data,) in rows]


@contextmanager
def postgresql_store(actions: servers.Server, directory: Path) -> Iterator[Store]:
    with stores.postgresql("postgresql-failing") as pg:
        host, port = pg.address
        endpoints = directory / "endpoints.yml"
        endpoints.write_text(
            f"action_endpoint:\n  url: {action_url(actions)}\n"
            f"tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: {host}\n  port: {port}\n"
            f"  db: {stores.PG_DATABASE}\n  username: {stores.PG_USER}\n",
            encoding="utf-8",
        )
        with servers.running(servers.rasa_server(endpoints, name="rasa-failing-pg")) as rasa:
            yield Store(
                rasa.ready_url.rstrip("/"), lambda: stopped(pg), lambda s: postgresql_user_texts(pg, s)
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, actions: servers.Server, tmp_path: Path) -> Iterator[Store]:
    make = sqlite_store if request.param == "sqlite" else postgresql_store
    with make(actions, tmp_path) as running_store:
        yield running_store


def test_tracker_store_down_gives_a_clear_error_then_the_conversation_goes_on(store: Store) -> None:
    sender = "failing-store"
    assert says(
        assert_answer(post(store.url, {"sender": sender, "message": "/greet"}), sender), "utter_greet"
    )
    with store.outage():
        for who in (sender, "failing-store-newcomer"):
            response = post(store.url, {"sender": who, "message": "/ask_what_is_beta_gouv"})
            assert response.status_code == 503
            assert texts(response.json()) == [guard.STORE_DOWN_ANSWER]
    replies = assert_answer(post(store.url, {"sender": sender, "message": "/ask_funding"}), sender)
    assert says(replies, "utter_ask_funding")
    # The refused message is not in the conversation (its sender was told); the rest is, in order.
    assert store.user_texts(sender) == ["/greet", "/ask_funding"]
