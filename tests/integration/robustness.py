"""Helpers shared by the robustness and security tests: talking to the REST channel, reading the domain's
answers and the tracker store, and checking that no user text comes back as markup."""

from __future__ import annotations

import json
import re
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

import requests
import yaml

from channels import guard
from tests import servers

WEBHOOK = "/webhooks/rest/webhook"
# Hang guard only: a turn takes about a second; a hang fails the test instead of blocking the suite.
HANG_GUARD_S = 300
# Sanic closes a new connection whose request has not arrived within KEEP_ALIVE_TIMEOUT (5 s by default): a
# Rasa server busy for longer between connecting to the action server and sending would lose the action.
ACTION_SERVER_ENV = {"SANIC_KEEP_ALIVE_TIMEOUT": "120"}


def post(base_url: str, payload: Any, timeout: float = HANG_GUARD_S) -> requests.Response:
    return requests.post(f"{base_url}{WEBHOOK}", json=payload, timeout=timeout)


def post_raw(base_url: str, body: bytes, content_type: str | None = "application/json") -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.post(f"{base_url}{WEBHOOK}", data=body, headers=headers, timeout=HANG_GUARD_S)


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [reply["text"] for reply in replies if reply.get("text")]


def visible_strings(replies: list[dict[str, Any]]) -> list[str]:
    """Everything a chat window shows: texts and button titles."""
    titles = [button.get("title", "") for reply in replies for button in reply.get("buttons") or []]
    return texts(replies) + titles


def answered(response: requests.Response, sender: str) -> list[dict[str, Any]]:
    """The replies of a served message: 200, at least one message, every one to this sender."""
    assert response.status_code == 200, (response.status_code, response.text[:300])
    replies = response.json()
    assert isinstance(replies, list) and replies, "a silent turn"
    assert all(reply.get("recipient_id") == sender for reply in replies), replies
    assert all(reply.get("text") or reply.get("buttons") or reply.get("custom") for reply in replies), replies
    return replies


def assert_answer(response: requests.Response, sender: str) -> list[dict[str, Any]]:
    """A real answer of the bot: neither the guard's apology nor one of its refusals."""
    replies = answered(response, sender)
    guard_texts = {guard.NO_REPLY_APOLOGY, guard.STORE_DOWN_ANSWER, guard.EMPTY_MESSAGE_ANSWER}
    assert not guard_texts & set(texts(replies)), texts(replies)
    return replies


def assert_clean_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert body["error"] == code
    assert body["message"]


# An HTML tag, comment or doctype; the target of a Markdown link or image.
HTML_TAG = re.compile(r"<\s*[/!?]?\s*[A-Za-z]")
MARKDOWN_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)")


def assert_no_markup_from_users(replies: list[dict[str, Any]]) -> None:
    """The bot's own messages have no HTML and only https links: any other markup came from a user."""
    for text in visible_strings(replies):
        assert not HTML_TAG.search(text), text
        for target in MARKDOWN_TARGET.findall(text):
            assert target.startswith("https://") and "evil.example" not in target, text


@cache
def domain_responses() -> dict[str, list[str]]:
    """The texts of each response of domain.yml (all its variations)."""
    domain = yaml.safe_load((servers.REPO / "domain.yml").read_text(encoding="utf-8"))
    return {
        name: [variation["text"].strip() for variation in variations if variation.get("text")]
        for name, variations in (domain.get("responses") or {}).items()
    }


def says(replies: list[dict[str, Any]], response: str) -> bool:
    """Whether the replies contain one variation of a domain response (the REST channel splits paragraphs)."""
    said = "\n\n".join(texts(replies))
    return any(variation in said for variation in domain_responses()[response])


def user_texts(db: Path, sender: str) -> list[str]:
    """The user messages of a conversation as the SQLite tracker store holds them, in order."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


def replies_per_message(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Each user message of a conversation's events with the number of bot messages that followed it."""
    result: list[tuple[str, int]] = []
    for event in events:
        if event["event"] == "user":
            result.append((event["text"], 0))
        elif event["event"] == "bot" and result:
            text, count = result[-1]
            result[-1] = (text, count + 1)
    return result


def stored_events(db: Path, sender: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]
