"""What Mattermost sends the channel: outgoing webhooks, slash commands and button clicks, read into a
``Question`` or refused with a RequestError (channels.body's error shape)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from channels import guard
from channels.body import RequestError, parse_body
from channels.mattermost.settings import ID_PATTERN, Settings, origin
from channels.mattermost.signatures import check_token, verify_context

# Mattermost's largest post, in characters (runes); longer answers are split.
MAX_POST_CHARS = 16383
UNSUPPORTED_MEDIA = (
    "Type de contenu non pris en charge : envoyez application/json ou application/x-www-form-urlencoded."
)
INVALID_BODY = "Corps de requête illisible : un objet JSON ou un formulaire encodé en UTF-8 est attendu."
INVALID_FIELD = "Champ « {name} » absent ou invalide."
FOREIGN_RESPONSE_URL = (
    "Champ « response_url » refusé : Bienvenue ne répond qu'à des adresses de votre serveur Mattermost."
)
TEXT_TOO_LONG = f"Texte trop long : un message Mattermost compte au plus {MAX_POST_CHARS} caractères."
SLASH_ACK = "Votre question : « {question} »"  # French typography: narrow no-break spaces
SLASH_ACK_QUESTION_CHARS = 300


class Kind(Enum):
    WEBHOOK = "outgoing_webhook"
    SLASH = "slash_command"
    CLICK = "button"


@dataclass(frozen=True)
class Question:
    kind: Kind
    text: str
    user_id: str
    channel_id: str
    post_id: str = ""  # outgoing webhook: the question's post
    root_id: str = ""  # button: the thread to answer in
    trigger_word: str = ""  # outgoing webhook: what starts a question (to type a choice)
    response_url: str = ""  # slash command
    command: str = ""  # slash command, e.g. /bienvenue
    metadata: dict[str, Any] = field(default_factory=dict)


def invalid_field(name: str) -> RequestError:
    return RequestError(400, "invalid_field", INVALID_FIELD.format(name=name))


def request_kind(fields: Mapping[str, Any]) -> Kind:
    if "command" in fields:
        return Kind.SLASH
    if "context" in fields and "token" not in fields:
        return Kind.CLICK
    return Kind.WEBHOOK


def field_id(fields: Mapping[str, Any], name: str, optional: bool = False) -> str:
    value = fields.get(name, "" if optional else None)
    if optional and value == "":
        return ""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise invalid_field(name)
    return value


def field_text(fields: Mapping[str, Any], name: str, optional: bool = False) -> str:
    value = fields.get(name, "" if optional else None)
    if not isinstance(value, str):
        raise invalid_field(name)
    if len(value) > MAX_POST_CHARS:
        raise RequestError(413, "text_too_long", TEXT_TOO_LONG)
    return value


def question_text(text: str, trigger_word: str) -> str:
    """The question without the trigger word that starts it; a hook without trigger word keeps every word."""
    words = text.split(maxsplit=1)
    if trigger_word and words and words[0].casefold().startswith(trigger_word.casefold()):
        return words[1] if len(words) > 1 else ""
    return text.strip()


def _metadata(fields: Mapping[str, Any], kind: Kind, **extra: str) -> dict[str, Any]:
    keys = ("channel_id", "channel_name", "team_id", "team_domain", "user_name", "post_id")
    known = {key: fields[key] for key in keys if isinstance(fields.get(key), str)}
    return {"mattermost": {"via": kind.value, **known, **extra}}


def parse_webhook(fields: Mapping[str, Any], settings: Settings) -> Question | None:
    """An outgoing webhook's question, or None when there is nothing to answer (a post without text)."""
    check_token(fields, settings.webhook_tokens)
    user_id = field_id(fields, "user_id")
    channel_id = field_id(fields, "channel_id")
    post_id = field_id(fields, "post_id")
    text = field_text(fields, "text")
    trigger_word = field_text(fields, "trigger_word", optional=True)
    if not trigger_word and not text.strip():
        return None  # e.g. a file posted without text in a channel-wide hook's channel
    return Question(
        kind=Kind.WEBHOOK,
        text=question_text(text, trigger_word),
        user_id=user_id,
        channel_id=channel_id,
        post_id=post_id,
        trigger_word=trigger_word,
        metadata=_metadata(fields, Kind.WEBHOOK),
    )


def parse_slash(fields: Mapping[str, Any], settings: Settings) -> Question:
    check_token(fields, settings.slash_tokens)
    user_id = field_id(fields, "user_id")
    channel_id = field_id(fields, "channel_id")
    root_id = field_id(fields, "root_id", optional=True)
    command = field_text(fields, "command")
    text = field_text(fields, "text", optional=True)
    response_url = field_text(fields, "response_url")
    if origin(response_url) is None:
        raise invalid_field("response_url")
    # The bot posts there: only Mattermost's own address, never one the holder of a slash token chooses.
    if origin(response_url) != origin(settings.api_url):
        raise RequestError(400, "foreign_response_url", FOREIGN_RESPONSE_URL)
    return Question(
        kind=Kind.SLASH,
        text=text.strip(),
        user_id=user_id,
        channel_id=channel_id,
        root_id=root_id,
        response_url=response_url,
        command=command.strip(),
        metadata=_metadata(fields, Kind.SLASH, root_id=root_id),
    )


def parse_click(fields: Mapping[str, Any], settings: Settings, now: float) -> Question:
    action, root_id = verify_context(
        settings.button_secret,
        fields.get("context"),
        channel_id=fields.get("channel_id"),
        user_id=fields.get("user_id"),
        post_id=fields.get("post_id"),
        now=now,
    )
    return Question(
        kind=Kind.CLICK,
        text=action,
        user_id=field_id(fields, "user_id"),
        channel_id=field_id(fields, "channel_id"),
        root_id=root_id,
        metadata=_metadata(fields, Kind.CLICK, root_id=root_id),
    )


def parse_request(content_type: str | None, body: bytes, settings: Settings, now: float) -> Question | None:
    """The question a request brings, None if there is none; raises RequestError for a request to refuse.
    ``now`` (Unix seconds) is when a button click must not have expired yet."""
    fields = parse_body(
        content_type, body, wrong_type=UNSUPPORTED_MEDIA, invalid=INVALID_BODY, accept_form=True
    )
    kind = request_kind(fields)
    if kind is Kind.SLASH:
        return parse_slash(fields, settings)
    if kind is Kind.CLICK:
        return parse_click(fields, settings, now)
    return parse_webhook(fields, settings)


def slash_ack(question: Question) -> dict[str, str]:
    """The slash command's immediate answer (only its author sees it), quoting the question as the guard
    cleans it; the bot's answer follows."""
    shown = guard.clean_text(question.text)
    if len(shown) > SLASH_ACK_QUESTION_CHARS:
        shown = shown[:SLASH_ACK_QUESTION_CHARS].rstrip() + "…"
    return {"response_type": "ephemeral", "text": SLASH_ACK.format(question=shown) if shown else ""}
