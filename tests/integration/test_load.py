"""Load with nothing lost: 50 conversations of 20 messages each, at the same time, over the REST channel.

Every message gets its own answer, to its sender, in order; afterwards every conversation is complete in the
tracker store, and still is once the Rasa server has restarted. Completeness only: no timing is asserted.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from channels import guard
from tests import servers
from tests.integration import trackers
from tests.integration.robustness import (
    ACTION_SERVER_ENV,
    HANG_GUARD_S,
    QUIET_ENV,
    WEBHOOK,
    assert_answer,
    replies_per_message,
    says,
    stored_events,
    texts,
)

CONVERSATIONS = 50
MESSAGES_PER_CONVERSATION = 20
# Button payloads with a known answer (the response their rule gives), and free questions (the NLU's way).
SCRIPT: list[tuple[str, str | None]] = [
    ("/greet", "utter_greet"),
    ("/ask_what_is_beta_gouv", "utter_ask_what_is_beta_gouv"),
    ("c'est quoi une startup d'État ?", None),
    ("/ask_team_roles", "utter_ask_team_roles"),
    ("/thank", "utter_thank"),
    ("/ask_funding", "utter_ask_funding"),
    ("comment rejoindre beta.gouv ?", None),
    ("/bot_challenge", "utter_iamabot"),
    ("/ask_community", "utter_ask_community"),
    ("/ask_help", "utter_help"),
    ("/ask_first_steps", "utter_ask_first_steps"),
    ("/ask_documentation", "utter_ask_documentation"),
]


def conversation(index: int) -> list[tuple[str, str | None]]:
    """Each conversation starts at another point of the script: answers crossed between senders would show."""
    return [SCRIPT[(index + turn) % len(SCRIPT)] for turn in range(MESSAGES_PER_CONVERSATION)]


def sender(index: int) -> str:
    return f"load-{index:02d}"


@pytest.fixture(scope="module")
def action_server() -> Iterator[servers.Server]:
    """The action server as scripts/run.sh should start it: a busy Rasa may take more than Sanic's default
    5 seconds between opening a connection and sending its request, and would find it closed."""
    server = servers.action_server(name="actions-load")
    server.env = {**QUIET_ENV, **ACTION_SERVER_ENV}
    with servers.running(server):
        yield server


@pytest.fixture(scope="module")
def rasa(action_server: servers.Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    directory = tmp_path_factory.mktemp("load")
    endpoints = servers.sqlite_endpoints(
        directory, action_server.ready_url.replace("/health", "/webhook"), directory / "conversations.db"
    )
    # This test checks completeness, not speed: on a busy machine a slow turn must not become an apology.
    env = {**QUIET_ENV, guard.REPLY_TIMEOUT_ENV: str(HANG_GUARD_S)}
    server = servers.rasa_server(endpoints, name="rasa-load", extra_args=trackers.API_ARGS, env=env)
    with servers.running(server):
        yield server


def talk(base_url: str, index: int) -> list[list[dict]]:
    """One user: each message sent once the previous one is answered; returns the replies in order."""
    replies = []
    with requests.Session() as session:
        for message, _ in conversation(index):
            response = session.post(
                f"{base_url}{WEBHOOK}",
                json={"sender": sender(index), "message": message},
                timeout=HANG_GUARD_S,
            )
            replies.append(assert_answer(response, sender(index)))
    return replies


def assert_complete(events: list[dict], index: int) -> None:
    """The conversation holds every message, in order, each followed by the bot's answer."""
    stored = replies_per_message(events)
    assert [text for text, _ in stored] == [message for message, _ in conversation(index)], sender(index)
    assert all(count >= 1 for _, count in stored), (sender(index), stored)


@pytest.mark.timeout(3600)  # hang guard: 1000 turns and two start-ups of Rasa on a shared machine
def test_50_concurrent_conversations_lose_nothing(rasa: servers.Server) -> None:
    base_url = rasa.ready_url.rstrip("/")
    with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        all_replies = list(pool.map(lambda index: talk(base_url, index), range(CONVERSATIONS)))

    for index, replies in enumerate(all_replies):
        for (message, response), reply in zip(conversation(index), replies, strict=True):
            if response is not None:
                assert says(reply, response), (sender(index), message, reply)
            if response is not None and response.startswith("utter_ask_"):
                assert any("](https://" in text for text in texts(reply)), (
                    "links lost",
                    sender(index),
                    message,
                )

    db = Path(rasa.command[rasa.command.index("--endpoints") + 1]).parent / "conversations.db"
    for index in range(CONVERSATIONS):
        assert_complete(stored_events(db, sender(index)), index)

    rasa.stop()
    rasa.start()
    for index in range(CONVERSATIONS):
        assert_complete(trackers.tracker(base_url, sender(index))["events"], index)
