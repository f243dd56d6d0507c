"""Load with nothing lost: 50 conversations of 20 messages each, at the same time, over the REST channel.

Every message gets its own answer, to its sender, in order; afterwards every conversation is complete in the
tracker store, and a fresh Rasa process on the same store reads each one back complete. Completeness only: no
timing is asserted.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.conftest import Bot
from tests.integration.robustness import (
    HANG_GUARD_S,
    WEBHOOK,
    assert_answer,
    replies_per_message,
    says,
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


@pytest.mark.timeout(3600)  # hang guard: 1000 turns on a shared machine
def test_50_concurrent_conversations_lose_nothing(bot: Bot, restarted_bot: Bot) -> None:
    with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        all_replies = list(pool.map(lambda index: talk(bot.base_url, index), range(CONVERSATIONS)))

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

    for index in range(CONVERSATIONS):
        assert_complete(bot.events(sender(index)), index)

    # A fresh process reads every conversation back complete from the store, as after a restart.
    for index in range(CONVERSATIONS):
        assert_complete(restarted_bot.tracker(sender(index))["events"], index)
