"""What the Tchap client decides, as plain functions of Matrix event dicts (no network, no matrix-nio):
which messages are questions, what text the assistant sees, and the Matrix content of its answers.

Kept free of third-party imports so that the main test suite (Python 3.10, Rasa's environment) unit-tests it.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

CHANNEL_PREFIX = "tchap"
FEEDBACK_POSITIVE = "/feedback_positive"
FEEDBACK_NEGATIVE = "/feedback_negative"
CHOICES_INTRO = "Pour continuer, répondez par le numéro de votre choix :"
FEEDBACK_HINT = "Vous pouvez aussi réagir à ma réponse avec 👍 ou 👎."
UNDECRYPTABLE_NOTICE = (
    "Je n'ai pas pu déchiffrer votre message : mon appareil n'a pas reçu sa clé. Pouvez-vous le renvoyer ?"
)
UNSUPPORTED_NOTICE = "Je ne lis que les messages texte : pouvez-vous écrire votre question ?"
GOODBYE_NOTICE = "Au revoir ! Invitez-moi de nouveau quand vous voulez."
OTHER_USER_PLACEHOLDER = "quelqu'un"
# The messages a room moderator sends, mentioning the bot, to make it leave the room.
LEAVE_COMMANDS = frozenset({"quitte ce salon", "quittez ce salon", "quitter ce salon", "quitte le salon"})

# Matrix user ids (@localpart:server); the server part may carry a port.
USER_ID_PATTERN = re.compile(r"@[a-z0-9._=/+-]+:[a-z0-9.-]+(?::\d+)?", re.IGNORECASE)
# A pill: a link to https://matrix.to/#/<user id>, sometimes percent-encoded.
_PILL_HREF = re.compile(r"""href\s*=\s*["']https://matrix\.to/#/([^"'?]+)""", re.IGNORECASE)
# Reply fallbacks (deprecated but still sent by some clients): leading "> " lines, then an empty line.
_REPLY_FALLBACK = re.compile(r"\A(?:>[^\n]*\n)+\n?")
# Markdown links of the bot's answers; only http(s) and mailto targets become HTML links.
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s()<>\"]+)\)")
_CHOICE = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


@dataclass(frozen=True)
class Identity:
    """Who the bot is in Matrix: its user id and display name (how people mention it)."""

    user_id: str
    display_name: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        localpart = self.user_id[1:].split(":", 1)[0]
        return tuple(name for name in (self.display_name.strip(), localpart) if name)


def conversation_id(room_id: str, user_id: str) -> str:
    """One Rasa conversation per person and room: the same person in a DM and in a room has two."""
    return f"{CHANNEL_PREFIX}:{room_id}:{user_id}"


def relates_to(content: Mapping[str, Any]) -> Mapping[str, Any]:
    relation = content.get("m.relates_to")
    return relation if isinstance(relation, Mapping) else {}


def reply_target(content: Mapping[str, Any]) -> str | None:
    """The event a message replies to; in a thread, the thread's previous message when falling back."""
    in_reply_to = relates_to(content).get("m.in_reply_to")
    if isinstance(in_reply_to, Mapping) and isinstance(in_reply_to.get("event_id"), str):
        return in_reply_to["event_id"]
    return None


def thread_root(content: Mapping[str, Any]) -> str | None:
    relation = relates_to(content)
    root = relation.get("event_id")
    if relation.get("rel_type") == "m.thread" and isinstance(root, str):
        return root
    return None


def is_edit(content: Mapping[str, Any]) -> bool:
    return relates_to(content).get("rel_type") == "m.replace"


def mentions(content: Mapping[str, Any], identity: Identity) -> bool:
    """The bot is mentioned: intentional mention (m.mentions), a pill to it, or its name written in full."""
    declared = content.get("m.mentions")
    if isinstance(declared, Mapping):
        user_ids = declared.get("user_ids")
        if isinstance(user_ids, list) and identity.user_id in user_ids:
            return True
    formatted = content.get("formatted_body")
    if isinstance(formatted, str):
        for target in _PILL_HREF.findall(formatted):
            if unquote(target) == identity.user_id:
                return True
    body = content.get("body")
    if not isinstance(body, str):
        return False
    body = strip_reply_fallback(body)
    if identity.user_id.lower() in body.lower():
        return True
    return any(_name_pattern(name).search(body) for name in identity.names)


def _name_pattern(name: str) -> re.Pattern[str]:
    # The name as a whole word, with an optional leading @ ("@Bienvenue", "Bienvenue :", "bienvenue,").
    return re.compile(rf"(?<![\w@])@?{re.escape(name)}(?!\w)", re.IGNORECASE)


def strip_reply_fallback(body: str) -> str:
    return _REPLY_FALLBACK.sub("", body, count=1)


def question_text(body: str, identity: Identity) -> str:
    """The text the assistant sees: no reply fallback, no mention of the bot, other people's ids masked."""
    text = strip_reply_fallback(body)
    text = re.sub(re.escape(identity.user_id), " ", text, flags=re.IGNORECASE)
    for name in identity.names:
        text = _name_pattern(name).sub(" ", text)
    text = USER_ID_PATTERN.sub(OTHER_USER_PLACEHOLDER, text)
    # What is left of "Bienvenue : question" or "@Bienvenue, question".
    return re.sub(r"^[\s:,;.!?-]+", "", text).strip()


def is_leave_command(text: str) -> bool:
    return " ".join(text.lower().split()).rstrip(" .!") in LEAVE_COMMANDS


# Room versions before 12 list the creator in the power levels; from 12 on, creators outrank everyone.
_LISTED_CREATOR_VERSIONS = frozenset({str(version) for version in range(1, 12)})


def can_kick(state: Sequence[Mapping[str, Any]], user_id: str) -> bool:
    """Whether the user may exclude members, from the room's current state events."""
    create = next((event for event in state if event.get("type") == "m.room.create"), {})
    create_content = create.get("content") if isinstance(create.get("content"), Mapping) else {}
    version = str(create_content.get("room_version", "1"))
    if version not in _LISTED_CREATOR_VERSIONS:
        additional = create_content.get("additional_creators")
        creators = {create.get("sender"), *(additional if isinstance(additional, list) else [])}
        if user_id in creators:
            return True
    levels = next((event for event in state if event.get("type") == "m.room.power_levels"), {})
    power_levels = levels.get("content") if isinstance(levels.get("content"), Mapping) else {}
    users = power_levels.get("users")
    level = users.get(user_id) if isinstance(users, Mapping) else None
    if not isinstance(level, int):
        level = power_levels.get("users_default", 0)
    kick = power_levels.get("kick", 50)
    return isinstance(level, int) and isinstance(kick, int) and level >= kick


def choice_index(text: str, count: int) -> int | None:
    """The 0-based choice a message picks ("1", "2.", " 3) "), or None."""
    match = _CHOICE.fullmatch(text)
    if match is None:
        return None
    number = int(match.group(1))
    return number - 1 if 1 <= number <= count else None


def reaction_payload(key: str) -> str | None:
    """👍 and 👎, with any skin tone or variation selector, are the widget's feedback buttons."""
    base = "".join(char for char in key if unicodedata.category(char) not in ("Mn", "Sk", "Cf"))
    base = base.replace("\ufe0f", "").replace("\ufe0e", "")
    if base.startswith("👍"):
        return FEEDBACK_POSITIVE
    if base.startswith("👎"):
        return FEEDBACK_NEGATIVE
    return None


def inviter_allowed(inviter: str, allowed_domains: Sequence[str]) -> bool:
    """An empty allow-list accepts nobody (fail closed); "*" accepts every homeserver."""
    if "*" in allowed_domains:
        return True
    if not USER_ID_PATTERN.fullmatch(inviter):
        return False
    domain = inviter.split(":", 1)[1].lower()
    return domain in {allowed.lower() for allowed in allowed_domains}


def transaction_id(event_id: str, index: int) -> str:
    """The same answer to the same event always has the same transaction id: the homeserver then keeps
    one copy when a send is retried (after a crash or a lost connection)."""
    digest = hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:32]
    return f"bienvenue-{digest}-{index}"


# --- Answers -----------------------------------------------------------------------------------------------


def render_html(markdown: str) -> str:
    """The answer's HTML: everything escaped, then Markdown links (http, https, mailto) and line breaks.
    Only <a href> and <br> come out: the subset every Matrix client renders safely."""
    parts = []
    position = 0
    for match in _MARKDOWN_LINK.finditer(markdown):
        parts.append(html.escape(markdown[position : match.start()]))
        label, url = match.groups()
        parts.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>')
        position = match.end()
    parts.append(html.escape(markdown[position:]))
    return "".join(parts).replace("\n", "<br>")


def render_plain(markdown: str) -> str:
    """The answer's plain body: "label (url)" instead of Markdown links."""
    return _MARKDOWN_LINK.sub(lambda match: f"{match.group(1)} ({match.group(2)})", markdown)


@dataclass(frozen=True)
class Choice:
    title: str
    payload: str


def answer_choices(messages: Iterable[Mapping[str, Any]]) -> list[Choice]:
    choices = []
    for message in messages:
        for button in message.get("buttons") or []:
            if isinstance(button, Mapping) and isinstance(button.get("payload"), str) and button["payload"]:
                choices.append(Choice(str(button.get("title") or button["payload"]), button["payload"]))
    return choices


def answer_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The turn's messages as one Markdown text, buttons listed as numbered choices."""
    parts = [
        message["text"] for message in messages if isinstance(message.get("text"), str) and message["text"]
    ]
    choices = answer_choices(messages)
    if choices:
        lines = [CHOICES_INTRO, *(f"{index}. {choice.title}" for index, choice in enumerate(choices, 1))]
        if any(choice.payload in (FEEDBACK_POSITIVE, FEEDBACK_NEGATIVE) for choice in choices):
            lines.append(FEEDBACK_HINT)
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def notice_content(markdown: str, question_event_id: str | None, thread: str | None) -> dict[str, Any]:
    """An m.notice (bots answer with notices, which clients and bots never answer automatically) replying
    to the question, in its thread when it has one. No reply fallback: the question is never quoted back."""
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": render_plain(markdown),
        "format": "org.matrix.custom.html",
        "formatted_body": render_html(markdown),
        "m.mentions": {},
    }
    if thread is not None:
        relation: dict[str, Any] = {"rel_type": "m.thread", "event_id": thread, "is_falling_back": True}
        if question_event_id:
            relation["m.in_reply_to"] = {"event_id": question_event_id}
        content["m.relates_to"] = relation
    elif question_event_id:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": question_event_id}}
    return content
