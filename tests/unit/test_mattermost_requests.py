"""Which Mattermost requests the channel accepts, what it refuses and with which status."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels import guard
from channels.body import RequestError
from channels.mattermost.incoming import (
    INVALID_BODY,
    MAX_POST_CHARS,
    UNSUPPORTED_MEDIA,
    Kind,
    Question,
    parse_body,
    parse_request,
    question_text,
    request_kind,
    slash_ack,
)
from channels.mattermost.settings import Settings
from channels.mattermost.signatures import check_token, sign_context, token_matches, verify_context

SECRET = b"button-secret"
NOW = 1_800_000_000  # Unix seconds: when the requests of these tests arrive
LATER = NOW + 86400
SETTINGS = Settings(
    api_url="https://chat.exemple.fr/api/v4",
    bot_token="bot",
    webhook_tokens=("hooktoken",),
    slash_tokens=("slashtoken",),
    button_secret=SECRET,
)
USER = "u" * 26
CHANNEL = "c" * 26
POST = "p" * 26
ROOT = "r" * 26


def webhook(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "token": "hooktoken",
        "team_id": "t" * 26,
        "team_domain": "beta",
        "channel_id": CHANNEL,
        "channel_name": "accueil",
        "timestamp": 1700000000000,
        "user_id": USER,
        "user_name": "alice",
        "post_id": POST,
        "text": "c'est quoi une startup d'État ?",
        "trigger_word": "",
        "file_ids": "",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def slash(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "token": "slashtoken",
        "team_id": "t" * 26,
        "team_domain": "beta",
        "channel_id": CHANNEL,
        "channel_name": "alice__bob",
        "user_id": USER,
        "user_name": "alice",
        "command": "/bienvenue",
        "text": "les incubateurs ?",
        "response_url": "https://chat.exemple.fr/hooks/commands/" + "h" * 26,
        "trigger_id": "x",
        "root_id": "",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def click(context: object, **changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "user_id": USER,
        "user_name": "alice",
        "channel_id": CHANNEL,
        "channel_name": "accueil",
        "team_id": "t" * 26,
        "team_domain": "beta",
        "post_id": POST,
        "trigger_id": "x",
        "type": "",
        "data_source": "",
        "context": context,
    }
    fields.update(changes)
    return fields


def as_json(fields: dict[str, object]) -> tuple[str, bytes]:
    return "application/json", json.dumps(fields).encode()


def as_form(fields: dict[str, object]) -> tuple[str, bytes]:
    return "application/x-www-form-urlencoded", urlencode(fields).encode()


def parse(content_type: str, body: bytes, now: float = NOW) -> Question | None:
    return parse_request(content_type, body, SETTINGS, now=now)


def refusal(content_type: str, body: bytes, now: float = NOW) -> RequestError:
    with pytest.raises(RequestError) as refused:
        parse(content_type, body, now)
    assert refused.value.response().status == refused.value.status
    return refused.value


def refusal_status(content_type: str, body: bytes) -> int:
    return refusal(content_type, body).status


def fields_of(content_type: str | None, body: bytes) -> dict[str, object]:
    """The fields of a request body, read as the channel reads them."""
    messages = {"wrong_type": UNSUPPORTED_MEDIA, "invalid": INVALID_BODY}
    return parse_body(content_type, body, **messages, accept_form=True)


def signed(action: str = "/ask_join_beta", expires: int = LATER, **where: str) -> dict[str, object]:
    """A context the bot signed for a button on post POST in thread ROOT of CHANNEL, for USER."""
    place = {"channel_id": CHANNEL, "root_id": ROOT, "user_id": USER, "post_id": POST, **where}
    return sign_context(
        SECRET, action, place["channel_id"], place["root_id"], place["user_id"], place["post_id"], expires
    )


# --- Tokens ------------------------------------------------------------------------------------------------


def test_token_matches_only_a_configured_token() -> None:
    assert token_matches("b", ["a", "b"])
    assert not token_matches("c", ["a", "b"])
    assert not token_matches("", ["a"])
    assert not token_matches("a", [])


def test_token_comparison_takes_any_text_without_crashing() -> None:
    # hmac.compare_digest refuses non-ASCII str: the channel compares bytes.
    assert not token_matches("jéton🙂", ["hooktoken"])


def test_missing_token_is_401_and_wrong_token_403() -> None:
    with pytest.raises(RequestError) as missing:
        check_token({}, ["a"])
    assert missing.value.status == 401
    with pytest.raises(RequestError) as wrong:
        check_token({"token": "b"}, ["a"])
    assert wrong.value.status == 403
    with pytest.raises(RequestError) as not_text:
        check_token({"token": ["a"]}, ["a"])
    assert not_text.value.status == 401


@pytest.mark.parametrize("encode", [as_json, as_form])
def test_webhook_tokens_are_checked(encode) -> None:  # type: ignore[no-untyped-def]
    assert refusal_status(*encode(webhook(token=None))) == 401
    assert refusal_status(*encode(webhook(token="wrong"))) == 403
    assert refusal_status(*encode(webhook(token="slashtoken"))) == 403  # each integration has its own


def test_slash_commands_need_a_slash_token() -> None:
    assert refusal_status(*as_form(slash(token="hooktoken"))) == 403
    assert refusal_status(*as_form(slash(token=None))) == 401


# --- Bodies ------------------------------------------------------------------------------------------------


def test_json_and_form_bodies_give_the_same_fields() -> None:
    fields = webhook()
    from_json = fields_of(*as_json(fields))
    from_form = fields_of(*as_form(fields))
    assert from_json["text"] == from_form["text"] == fields["text"]
    assert from_json["trigger_word"] == from_form["trigger_word"] == ""


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "multipart/form-data; boundary=x", "text/xml"]
)
def test_other_content_types_are_415(content_type: str | None) -> None:
    with pytest.raises(RequestError) as refused:
        fields_of(content_type, b"token=hooktoken")
    assert refused.value.status == 415


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'"text"', b"\xff\xfe", b"[" * 100000],
)
def test_unreadable_json_is_400(body: bytes) -> None:
    with pytest.raises(RequestError) as refused:
        fields_of("application/json; charset=utf-8", body)
    assert refused.value.status == 400


def test_form_with_invalid_utf8_is_400() -> None:
    with pytest.raises(RequestError) as refused:
        fields_of("application/x-www-form-urlencoded", b"text=%ff%fe")
    assert refused.value.status == 400


def test_request_kinds() -> None:
    assert request_kind(webhook()) is Kind.WEBHOOK
    assert request_kind(slash()) is Kind.SLASH
    assert request_kind(click({})) is Kind.CLICK
    # A webhook-like request with a context is still a webhook: it needs the webhook token.
    assert request_kind(webhook(context={})) is Kind.WEBHOOK


# --- Outgoing webhooks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("encode", [as_json, as_form])
def test_a_webhook_question_keeps_every_word_when_there_is_no_trigger_word(encode) -> None:  # type: ignore[no-untyped-def]
    question = parse(*encode(webhook(text="Combien de temps dure une startup ?")))
    assert question is not None
    assert question.kind is Kind.WEBHOOK
    assert question.text == "Combien de temps dure une startup ?"
    assert (question.user_id, question.channel_id, question.post_id) == (USER, CHANNEL, POST)
    assert question.metadata["mattermost"]["channel_name"] == "accueil"


@pytest.mark.parametrize(
    ("text", "trigger_word", "expected"),
    [
        ("@bienvenue c'est quoi un intra ?", "@bienvenue", "c'est quoi un intra ?"),
        ("@Bienvenue   bonjour", "@bienvenue", "bonjour"),
        ("@bienvenue-bot bonjour", "@bienvenue", "bonjour"),  # "first word starts with" hooks
        ("@bienvenue", "@bienvenue", ""),
        ("bonjour à tous", "", "bonjour à tous"),
        ("  aide  ", "", "aide"),
    ],
)
def test_question_text(text: str, trigger_word: str, expected: str) -> None:
    assert question_text(text, trigger_word) == expected


def test_a_post_without_text_in_a_channel_wide_hook_is_not_a_question() -> None:
    assert parse(*as_json(webhook(text="", file_ids="f" * 26))) is None


def test_a_trigger_word_alone_is_an_empty_question_for_the_guard_to_answer() -> None:
    question = parse(*as_json(webhook(text="@bienvenue", trigger_word="@bienvenue")))
    assert question is not None
    assert question.text == ""


@pytest.mark.parametrize(
    "changes",
    [
        {"user_id": None},
        {"channel_id": "short"},
        {"post_id": "P" * 26},
        {"text": None},
        {"text": 42},
        {"user_id": ["u" * 26]},
    ],
)
def test_missing_or_malformed_fields_are_400(changes: dict[str, object]) -> None:
    assert refusal_status(*as_json(webhook(**changes))) == 400


def test_text_longer_than_a_mattermost_post_is_413() -> None:
    assert refusal_status(*as_json(webhook(text="a" * (MAX_POST_CHARS + 1)))) == 413
    assert parse(*as_json(webhook(text="a" * MAX_POST_CHARS))) is not None


# --- Slash commands ----------------------------------------------------------------------------------------


def test_a_slash_command_brings_its_response_url_and_thread() -> None:
    question = parse(*as_form(slash(root_id=ROOT)))
    assert question is not None
    assert question.kind is Kind.SLASH
    assert question.text == "les incubateurs ?"
    assert question.root_id == ROOT
    assert question.command == "/bienvenue"
    assert question.response_url.startswith("https://chat.exemple.fr/hooks/commands/")


@pytest.mark.parametrize("response_url", ["", "file:///etc/passwd", "not a url", "http://[::1"])
def test_a_slash_command_needs_an_http_response_url(response_url: str) -> None:
    assert refusal(*as_form(slash(response_url=response_url))).code == "invalid_field"


@pytest.mark.parametrize(
    "response_url",
    [
        "http://chat.exemple.fr/hooks/commands/x",  # another scheme
        "https://chat.exemple.fr:8443/hooks/commands/x",  # another port
        "https://169.254.169.254/latest/meta-data/",  # an internal address
        "https://localhost/hooks/commands/x",
        "https://chat.exemple.fr.evil.example/hooks/commands/x",
        "https://chat.exemple.fr@evil.example/hooks/commands/x",  # user info: the host is evil.example
    ],
)
def test_a_slash_response_url_off_mattermosts_origin_is_refused(response_url: str) -> None:
    refused = refusal(*as_form(slash(response_url=response_url)))
    assert (refused.status, refused.code) == (400, "foreign_response_url")


@pytest.mark.parametrize(
    "response_url",
    ["https://chat.exemple.fr/hooks/commands/x", "https://CHAT.exemple.fr:443/hooks/commands/x"],
)
def test_a_slash_response_url_on_mattermosts_origin_is_accepted(response_url: str) -> None:
    question = parse(*as_form(slash(response_url=response_url)))
    assert question is not None
    assert question.response_url == response_url


def test_the_slash_acknowledgement_is_ephemeral_json_quoting_a_short_question() -> None:
    question = parse(*as_form(slash(text="x" * 1000)))
    assert question is not None
    ack = slash_ack(question)
    assert ack["response_type"] == "ephemeral"
    assert len(ack["text"]) < 400


def test_the_slash_acknowledgement_quotes_the_question_as_the_guard_cleans_it() -> None:
    raw = "voir [ici](https://evil.example) <b>gras</b>\x00\u202e  svp"
    question = parse(*as_form(slash(text=raw)))
    assert question is not None
    text = slash_ack(question)["text"]
    assert guard.clean_text(raw) in text
    assert not set("<>[]\x00\u202e") & set(text)


# --- Button clicks -----------------------------------------------------------------------------------------


def test_a_signed_click_is_the_button_payload_in_its_thread() -> None:
    question = parse(*as_json(click(signed())))
    assert question is not None
    assert question.kind is Kind.CLICK
    assert (question.text, question.root_id, question.channel_id) == ("/ask_join_beta", ROOT, CHANNEL)


@pytest.mark.parametrize(
    "forge",
    [
        lambda context: {**context, "action": "/ask_funding"},
        lambda context: {**context, "root_id": "x" * 26},
        lambda context: {**context, "channel_id": "d" * 26},
        lambda context: {**context, "user_id": "v" * 26},
        lambda context: {**context, "post_id": "q" * 26},
        lambda context: {**context, "expires": LATER + 86400 * 365},
        lambda context: {**context, "expires": str(LATER)},
        lambda context: {**context, "signature": "0" * 64},
        lambda context: {key: value for key, value in context.items() if key != "signature"},
        lambda context: {key: value for key, value in context.items() if key != "expires"},
        lambda context: "not a context",
        lambda context: {**context, "signature": 12},
    ],
)
def test_a_forged_click_is_403(forge) -> None:  # type: ignore[no-untyped-def]
    assert refusal_status(*as_json(click(forge(signed())))) == 403


@pytest.mark.parametrize(
    "elsewhere",
    [{"channel_id": "d" * 26}, {"user_id": "v" * 26}, {"post_id": "q" * 26}],
    ids=["another-channel", "another-user", "another-post"],
)
def test_a_signed_context_replayed_elsewhere_or_by_someone_else_is_403(elsewhere: dict[str, str]) -> None:
    refused = refusal(*as_json(click(signed(), **elsewhere)))
    assert (refused.status, refused.code) == (403, "bad_signature")


def test_an_expired_button_is_403_and_says_so() -> None:
    context = signed(expires=NOW)
    refused = refusal(*as_json(click(context)), now=NOW)
    assert (refused.status, refused.code) == (403, "expired_button")
    assert parse(*as_json(click(context)), now=NOW - 1) is not None


def test_a_context_signed_with_another_key_is_403() -> None:
    context = sign_context(b"another key", "/ask_join_beta", CHANNEL, ROOT, USER, POST, LATER)
    with pytest.raises(RequestError):
        verify_context(SECRET, context, channel_id=CHANNEL, user_id=USER, post_id=POST, now=NOW)


@given(st.text(), st.text(), st.text(), st.text(), st.text(), st.integers(min_value=NOW + 1))
def test_any_signed_context_verifies(
    action: str, channel_id: str, root_id: str, user_id: str, post_id: str, expires: int
) -> None:
    context = sign_context(SECRET, action, channel_id, root_id, user_id, post_id, expires)
    where = {"channel_id": channel_id, "user_id": user_id, "post_id": post_id}
    assert verify_context(SECRET, context, **where, now=NOW) == (action, root_id)
