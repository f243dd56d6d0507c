"""The REST channel turns every malformed request into a clean 4xx and is the one credentials.yml serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.core.run import create_http_input_channels

from channels import guard
from channels.body import RequestError
from channels.rest import BienvenueRestInput, RestMessage, parse_request

REPO = Path(__file__).resolve().parents[2]
JSON = "application/json"


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()


def refused(content_type: str | None, raw: bytes) -> RequestError:
    with pytest.raises(RequestError) as error:
        parse_request(content_type, raw)
    return error.value


def test_a_valid_request_gives_its_sender_and_text() -> None:
    parsed = parse_request(JSON, body({"sender": "moi", "message": "bonjour", "metadata": {"x": 1}}))
    assert parsed == RestMessage(sender_id="moi", text="bonjour")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_types_with_parameters_are_accepted(content_type: str) -> None:
    assert isinstance(parse_request(content_type, body({"sender": "moi", "message": "bonjour"})), RestMessage)


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_other_content_types_get_415(content_type: str | None) -> None:
    parsed = refused(content_type, body({"sender": "moi", "message": "bonjour"}))
    assert (parsed.status, parsed.code) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"sender=moi&message=bonjour",
        b'{"sender": "moi", "message": "\xff\xfe"}',  # invalid UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # deep enough to exhaust the parser's recursion
        b"1" * 5000,  # an integer too long for Python to convert
        b'["moi", "bonjour"]',
        b'"bonjour"',
        b"null",
    ],
    ids=["empty", "truncated", "form", "invalid-utf8", "deep-nesting", "huge-int", "array", "string", "null"],
)
def test_bodies_that_are_not_a_json_object_get_400(raw: bytes) -> None:
    parsed = refused(JSON, raw)
    assert (parsed.status, parsed.code) == (400, "invalid_json")


@pytest.mark.parametrize(
    "payload",
    [
        {"message": "bonjour"},
        {"sender": None, "message": "x"},
        {"sender": 42, "message": "x"},
        {"sender": "a" * 10_000, "message": "x"},
        {"sender": "moi\x00", "message": "x"},
    ],
    ids=["missing", "null", "number", "10000-chars", "nul"],
)
def test_invalid_senders_get_400(payload: dict) -> None:
    parsed = refused(JSON, body(payload))
    assert (parsed.status, parsed.code) == (400, "invalid_sender")
    assert parsed.message == guard.INVALID_SENDER_ANSWER


@pytest.mark.parametrize(
    "payload",
    [
        {"sender": "moi"},
        {"sender": "moi", "message": None},
        {"sender": "moi", "message": 42},
        {"sender": "moi", "message": ["bonjour"]},
        {"sender": "moi", "text": "bonjour"},
    ],
    ids=["missing", "null", "number", "list", "wrong-key"],
)
def test_missing_or_non_text_messages_get_400(payload: dict) -> None:
    parsed = refused(JSON, body(payload))
    assert (parsed.status, parsed.code) == (400, "invalid_message")


def test_empty_and_long_messages_are_left_to_the_guard() -> None:
    """They get a French answer (the guard's), not a 4xx: a chat window can show it."""
    for text in ("", "x" * 10_000):
        assert parse_request(JSON, body({"sender": "moi", "message": text})) == RestMessage("moi", text)


def test_credentials_serve_the_guarded_rest_channel_at_rasas_route() -> None:
    channels = create_http_input_channels(None, str(REPO / "credentials.yml"))
    rest = [channel for channel in channels if channel.name() == "rest"]
    assert len(rest) == 1
    assert isinstance(rest[0], BienvenueRestInput)
    assert rest[0].url_prefix() == "rest"


def test_the_channel_reads_its_limits_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(guard.MAX_MESSAGE_CHARS_ENV, "300")
    assert BienvenueRestInput().guard.limits.max_message_chars == 300
    monkeypatch.setenv(guard.MAX_MESSAGE_CHARS_ENV, "many")
    with pytest.raises(ValueError, match=guard.MAX_MESSAGE_CHARS_ENV):
        BienvenueRestInput()
