"""Bad input over the REST channel of a real Rasa server and action server: every request gets a clear French
answer or a clean 4xx, the server keeps serving everybody else, and no user text comes back as markup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels import guard
from channels.rest import INVALID_JSON, WRONG_CONTENT_TYPE
from tests.integration.conftest import Bot
from tests.integration.robustness import (
    answered,
    assert_answer,
    assert_clean_error,
    assert_no_markup_from_users,
    post,
    post_raw,
    says,
    stored_events,
    texts,
    user_texts,
)


@pytest.fixture(autouse=True)
def everybody_else_is_still_served(bot: Bot) -> Iterator[None]:
    yield
    replies = assert_answer(
        post(bot.base_url, {"sender": "bad-input-witness", "message": "/greet"}), "bad-input-witness"
    )
    assert says(replies, "utter_greet")


# --- empty and oversized --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message", ["", "   ", "\n\t \r\n", "\x00\x00"], ids=["empty", "spaces", "blank", "nul"]
)
def test_empty_messages_get_a_french_answer(bot: Bot, message: str) -> None:
    replies = answered(post(bot.base_url, {"sender": "bad-empty", "message": message}), "bad-empty")
    assert texts(replies) == [guard.EMPTY_MESSAGE_ANSWER]


def test_a_10000_character_message_gets_a_french_answer(bot: Bot) -> None:
    message = ("Bonjour, je voudrais savoir ce qu'est une startup d'État. " * 200)[:10_000]
    replies = answered(post(bot.base_url, {"sender": "bad-long", "message": message}), "bad-long")
    assert texts(replies) == [guard.TOO_LONG_ANSWER.format(limit="2\u202f000")]
    assert user_texts(bot.tracker_db, "bad-long") == []  # refused before the bot: nothing stored


def test_a_2_mb_body_is_refused(bot: Bot) -> None:
    """413 when the server limits request bodies (SANIC_REQUEST_MAX_SIZE, set by scripts/run.sh); without that
    limit, the guard still refuses the message with its French answer."""
    response = post(bot.base_url, {"sender": "bad-2mb", "message": "x" * 2_000_000})
    if response.status_code == 413:
        return
    assert texts(answered(response, "bad-2mb")) == [guard.TOO_LONG_ANSWER.format(limit="2\u202f000")]


# --- malformed requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"",
        b"sender=moi&message=bonjour",
        b'["bad-json", "bonjour"]',
        b"null",
        b'{"sender": "bad-utf8", "message": "caf\xe9 \xff"}',
    ],
    ids=["truncated", "empty-body", "form-in-json", "array", "null", "invalid-utf8"],
)
def test_invalid_json_gets_400(bot: Bot, body: bytes) -> None:
    response = post_raw(bot.base_url, body)
    assert_clean_error(response, 400, "invalid_json")
    assert response.json()["message"] == INVALID_JSON


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "text/html", None],
)
def test_a_wrong_content_type_gets_415(bot: Bot, content_type: str | None) -> None:
    body = json.dumps({"sender": "bad-type", "message": "bonjour"}).encode()
    response = post_raw(bot.base_url, body, content_type)
    assert_clean_error(response, 415, "unsupported_media_type")
    assert response.json()["message"] == WRONG_CONTENT_TYPE


@pytest.mark.parametrize(
    "payload",
    [
        {"sender": "a" * 10_000, "message": "bonjour"},
        {"message": "bonjour"},
        {"sender": 42, "message": "bonjour"},
        {"sender": "bad\x00id", "message": "bonjour"},
    ],
    ids=["10000-chars", "missing", "number", "nul"],
)
def test_an_unusable_sender_id_gets_400(bot: Bot, payload: dict[str, Any]) -> None:
    response = post(bot.base_url, payload)
    assert_clean_error(response, 400, "invalid_sender")
    assert response.json()["message"] == guard.INVALID_SENDER_ANSWER


@pytest.mark.parametrize(
    "payload",
    [
        {"sender": "bad-msg"},
        {"sender": "bad-msg", "message": 42},
        {"sender": "bad-msg", "message": {"text": "bonjour"}},
    ],
    ids=["missing", "number", "object"],
)
def test_a_missing_or_non_text_message_gets_400(bot: Bot, payload: dict[str, Any]) -> None:
    assert_clean_error(post(bot.base_url, payload), 400, "invalid_message")


def test_other_methods_are_refused(bot: Bot) -> None:
    assert requests.get(f"{bot.base_url}/webhooks/rest/webhook", timeout=60).status_code == 405


# --- strange characters ---------------------------------------------------------------------------------


def test_nul_and_control_characters_are_removed_before_the_bot(bot: Bot) -> None:
    sender = "bad-control"
    replies = assert_answer(
        post(bot.base_url, {"sender": sender, "message": "bon\x00jour\x07\x1b !\x7f"}), sender
    )
    assert says(replies, "utter_greet")
    assert user_texts(bot.tracker_db, sender) == ["bonjour !"]


def test_a_lone_surrogate_is_removed(bot: Bot) -> None:
    body = b'{"sender": "bad-surrogate", "message": "bonjour \\ud800"}'
    assert_answer(post_raw(bot.base_url, body), "bad-surrogate")
    assert user_texts(bot.tracker_db, "bad-surrogate") == ["bonjour"]


@pytest.mark.parametrize(
    "message",
    [
        "👋🏽🙂🚀",
        "مرحبا، ما هو beta.gouv ؟",
        "שלום, מה זה סטארט-אפ ממשלתי?",
        "c'est quoi beta.gouv ?? 🤔 \u202eabc",
    ],
    ids=["emoji", "arabic", "hebrew", "mixed-bidi"],
)
def test_emoji_and_right_to_left_text_get_an_answer(bot: Bot, message: str) -> None:
    assert_answer(post(bot.base_url, {"sender": "bad-unicode", "message": message}), "bad-unicode")


# --- injection ------------------------------------------------------------------------------------------

ATTACKS = [
    "<script>alert('bienvenue')</script>",
    "<img src=x onerror=alert(1)> c'est quoi beta.gouv ?",
    "Quel incubateur pour <b>la Justice</b> ?",
    "[Cliquez ici](https://evil.example/phish) pour l'incubateur de la Justice",
    "![x](javascript:alert(1)) et les startups d'État ?",
    "<https://evil.example> comment rejoindre beta.gouv ?",
    '/inform_administration{"administration": "<script>alert(1)</script>"}',
    '/inform_administration{"administration": "[ici](https://evil.example)"}',
    '/ask_incubator_list{"administration": "<img src=x onerror=alert(1)>"}',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_html_and_markdown_never_come_back_as_markup(bot: Bot, attack: str) -> None:
    sender = "bad-injection"
    replies = answered(post(bot.base_url, {"sender": sender, "message": attack}), sender)
    assert_no_markup_from_users(replies)
    # And a follow-up that could quote the previous message back.
    assert_no_markup_from_users(
        answered(post(bot.base_url, {"sender": sender, "message": "plus de détails"}), sender)
    )


def test_metadata_and_input_channel_cannot_be_forged(bot: Bot) -> None:
    sender = "bad-forgery"
    payload = {
        "sender": sender,
        "message": "bonjour",
        "input_channel": "admin",
        "metadata": {"x": "y" * 50_000},
    }
    assert_answer(post(bot.base_url, payload), sender)
    (event,) = [event for event in stored_events(bot.tracker_db, sender) if event["event"] == "user"]
    assert event["input_channel"] == "rest"
    assert "x" not in (event.get("metadata") or {})


# --- volume ---------------------------------------------------------------------------------------------


def test_100_messages_in_a_row_from_one_sender_are_all_answered_and_kept(bot: Bot) -> None:
    sender = "bad-hundred"
    script = ["bonjour", "/ask_what_is_beta_gouv", "merci", "c'est quoi une startup d'État ?", "/ask_help"]
    sent = [script[i % len(script)] for i in range(100)]
    for message in sent:
        assert_answer(post(bot.base_url, {"sender": sender, "message": message}), sender)
    assert user_texts(bot.tracker_db, sender) == sent


# --- fuzzing --------------------------------------------------------------------------------------------

PIECES = [
    "\x00",
    "\u202e",
    "\ufeff",
    " ",
    "\n",
    "<script>",
    "</a>",
    "[x](https://evil.example)",
    "/",
    "{",
    "é",
    "startup d'État",
    "💥",
    "/inform_administration",
    '{"administration": "<b>"}',
    "a" * 2100,
]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
messages = st.text(max_size=200) | st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=8).map(
    "".join
)
senders = st.text(min_size=1, max_size=140).map(lambda text: f"fuzz-{text}") | json_values
payloads = (
    st.fixed_dictionaries(
        {},
        optional={
            "sender": senders,
            "message": messages | json_values,
            "metadata": json_values,
            "input_channel": json_values,
        },
    )
    | json_values
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(payload=payloads)
def test_any_payload_gets_an_answer_or_a_clean_400(bot: Bot, payload: Any) -> None:
    response = post_raw(bot.base_url, json.dumps(payload).encode())
    if response.status_code == 400:
        assert response.json()["error"] in ("invalid_json", "invalid_sender", "invalid_message")
        return
    replies = answered(response, payload["sender"])
    assert_no_markup_from_users(replies)
