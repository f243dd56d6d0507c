"""The layer every Bienvenue channel puts between its users and the bot.

- Refuses, with a French answer and without calling the bot, empty messages and messages longer than
  BIENVENUE_MAX_MESSAGE_CHARS.
- Cleans the text the bot sees: control characters removed, whitespace collapsed, and the characters that
  make HTML tags or Markdown links (``< > [ ]``) replaced, so that no user text can come back as markup
  through a slot, an entity or an action (bot messages are Markdown: Mattermost and the web page render them).
- Never a silent turn: when the bot sent nothing for a message (the action server is down, the turn failed or
  took more than BIENVENUE_REPLY_TIMEOUT_S), the user gets a short apology.
- When the tracker store fails during a turn, the turn's answers are replaced by a clear error: Rasa would
  otherwise answer from an empty conversation and keep it only in memory, silently losing it.

How a channel uses it (REST, socket.io, Mattermost, and any new channel, the same way):

    self.guard = guard.Guard.from_env(self.name())    # in __init__: limits read once, bad values stop here
    bot = self.guard.connect(on_new_message)          # in blueprint(): also watches the tracker store
    outcome = await bot.handle(text, sender_id, output_channel, metadata=...)

validating the sender id first with ``check_sender_id`` when the client chooses it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

import settings

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS_ENV = "BIENVENUE_MAX_MESSAGE_CHARS"
REPLY_TIMEOUT_ENV = "BIENVENUE_REPLY_TIMEOUT_S"
DEFAULT_MAX_MESSAGE_CHARS: int = settings.value(MAX_MESSAGE_CHARS_ENV, {})
DEFAULT_REPLY_TIMEOUT_S = float(settings.value(REPLY_TIMEOUT_ENV, {}))
MAX_SENDER_ID_CHARS = 128

EMPTY_MESSAGE_ANSWER = (
    "Votre message est vide. Posez-moi une question sur beta.gouv.fr, par exemple : "
    "« Qu'est-ce qu'une startup d'État ? »"
)
TOO_LONG_ANSWER = (
    "Votre message est trop long : je lis les messages de {limit} caractères au plus. "
    "Posez votre question en une ou deux phrases, je vous répondrai plus facilement."
)
NO_REPLY_APOLOGY = (
    "Désolé, je ne peux pas répondre à cette question pour le moment : un de mes services est "
    "momentanément indisponible. Réessayez dans quelques minutes ou posez une autre question."
)
STORE_DOWN_ANSWER = (
    "Désolé, un incident technique m'empêche d'enregistrer notre conversation : votre message n'a pas été "
    "pris en compte. Réessayez dans quelques minutes."
)
INVALID_SENDER_ANSWER = (
    "L'identifiant de conversation (« sender ») doit être un texte non vide de "
    f"{MAX_SENDER_ID_CHARS} caractères au plus, sans caractère de contrôle."
)

# Markup characters and their harmless look-alikes: "<b>" becomes "‹b›", "[x](y)" becomes "(x)(y)".
_MARKUP = str.maketrans({"<": "‹", ">": "›", "[": "(", "]": ")"})
# Bidirectional embeddings, overrides and isolates only reorder what is displayed: text spoofing, no meaning.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Beyond this many times the limit, no amount of stray spaces or control characters explains the length.
_UNCLEANABLE_FACTOR = 4
# Rasa's logger for tracker store failures (FailSafeTrackerStore logs them there, then carries on).
TRACKER_STORE_LOGGER = "rasa.core.tracker_store"


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    reply_timeout_s: float = DEFAULT_REPLY_TIMEOUT_S

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        """Read once, at channel start-up: a bad value stops the server with a clear error."""
        return cls(
            max_message_chars=settings.value(MAX_MESSAGE_CHARS_ENV, environ),
            reply_timeout_s=float(settings.value(REPLY_TIMEOUT_ENV, environ)),
        )


def clean_text(text: str) -> str:
    """The text the bot sees: NFC, no control/surrogate/bidi characters, single spaces, markup neutralised."""
    kept = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if char.isspace():
            kept.append(" ")
        elif category not in ("Cc", "Cs") and char not in _BIDI_CONTROLS:
            kept.append(char)
    return " ".join("".join(kept).split()).translate(_MARKUP)


@dataclass(frozen=True)
class CheckedMessage:
    text: str
    refusal: str | None = None  # the answer to send instead of calling the bot


def check_message(text: str, max_chars: int) -> CheckedMessage:
    """The limit counts cleaned characters; text too long to ever fit is refused before cleaning, which
    runs on the server's event loop (about a second for 2 MB)."""
    too_long = TOO_LONG_ANSWER.format(limit=_french_number(max_chars))
    if len(text) > _UNCLEANABLE_FACTOR * max_chars:
        return CheckedMessage("", too_long)
    cleaned = clean_text(text)
    if not cleaned:
        return CheckedMessage(cleaned, EMPTY_MESSAGE_ANSWER)
    if len(cleaned) > max_chars:
        return CheckedMessage(cleaned, too_long)
    return CheckedMessage(cleaned)


def _french_number(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")  # French groups digits with a narrow no-break space


def check_sender_id(sender_id: object) -> str | None:
    """The French error to return for an unusable sender id, or None when it is fine."""
    if (
        not isinstance(sender_id, str)
        or not sender_id.strip()
        or len(sender_id) > MAX_SENDER_ID_CHARS
        or any(unicodedata.category(char) in ("Cc", "Cs") for char in sender_id)
    ):
        return INVALID_SENDER_ANSWER
    return None


class Outcome(Enum):
    ANSWERED = "answered"
    REFUSED = "refused"  # empty or too long: the bot was not called
    APOLOGIZED = "apologized"  # the bot sent nothing (failure, timeout)
    STORE_DOWN = "store_down"  # the tracker store failed: the message was not recorded


@dataclass
class _Turn:
    replied: bool = False
    store_failed: bool = False
    # Set once the turn is settled: after a timeout, later bot messages would come out of turn.
    closed: bool = False


_current_turn: ContextVar[_Turn | None] = ContextVar("bienvenue_turn", default=None)


class _StoreFailureWatch(logging.Handler):
    """Marks the turn being handled in this context when the tracker store reports an error."""

    def emit(self, record: logging.LogRecord) -> None:
        turn = _current_turn.get()
        if turn is not None:
            turn.store_failed = True


def watch_tracker_store_errors() -> None:
    """Installs (once) the handler that notices tracker store failures; ``Guard.connect`` calls it."""
    store_logger = logging.getLogger(TRACKER_STORE_LOGGER)
    if not any(isinstance(handler, _StoreFailureWatch) for handler in store_logger.handlers):
        store_logger.addHandler(_StoreFailureWatch(level=logging.ERROR))


class _WatchedOutputChannel(OutputChannel):
    """Forwards the bot's messages to the channel's output, noting that the bot replied (Rasa only ever
    calls send_response and name on an output channel)."""

    def __init__(self, inner: OutputChannel, turn: _Turn) -> None:
        self._inner = inner
        self._turn = turn

    def name(self) -> str:  # type: ignore[override]  # Rasa picks channel-specific responses by this name
        return self._inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if self._turn.closed:
            logger.info("Dropped a bot message that came after its turn's timeout (sender %r).", recipient_id)
            return
        if self._turn.store_failed:
            return  # answers computed without the conversation the store failed to give: replaced by an error
        self._turn.replied = True
        await self._inner.send_response(recipient_id, message)


@dataclass(frozen=True)
class Guard:
    """A channel's guard, built once when the channel is: its name (recorded with each message) and limits."""

    input_channel: str
    limits: Limits = Limits()

    @classmethod
    def from_env(cls, input_channel: str, environ: Mapping[str, str] = os.environ) -> Guard:
        return cls(input_channel, Limits.from_env(environ))

    def connect(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> GuardedBot:
        """The bot behind this guard, for a channel's blueprint; from now on, tracker store failures are
        watched."""
        watch_tracker_store_errors()
        return GuardedBot(self, on_new_message)


@dataclass(frozen=True)
class GuardedBot:
    guard: Guard
    on_new_message: Callable[[UserMessage], Awaitable[Any]]

    async def handle(
        self,
        text: str,
        sender_id: str,
        output_channel: OutputChannel,
        *,
        metadata: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> Outcome:
        """Hands one user message to the bot; every outcome sends the user at least one message."""
        limits = self.guard.limits
        checked = check_message(text, limits.max_message_chars)
        if checked.refusal is not None:
            await output_channel.send_text_message(sender_id, checked.refusal)
            return Outcome.REFUSED

        turn = _Turn()
        message = UserMessage(
            checked.text,
            _WatchedOutputChannel(output_channel, turn),
            sender_id,
            input_channel=self.guard.input_channel,
            metadata=metadata,
            message_id=message_id,
        )
        context_token = _current_turn.set(turn)
        try:
            # A task of its own (which inherits `turn` through the context) so that a timeout or a client who
            # leaves does not cancel the turn half-way: it still ends and is recorded.
            task = asyncio.ensure_future(self.on_new_message(message))
        finally:
            _current_turn.reset(context_token)
        task.add_done_callback(functools.partial(_log_failure, sender_id))
        try:
            await asyncio.wait_for(asyncio.shield(task), limits.reply_timeout_s)
        except asyncio.TimeoutError:
            logger.error(
                "No answer for sender %r after %s s; the turn goes on in the background.",
                sender_id,
                limits.reply_timeout_s,
            )
        except Exception:
            pass  # logged by _log_failure, even when the turn fails after its timeout
        turn.closed = True

        if turn.store_failed:
            logger.error("Tracker store unavailable: the message of sender %r was not recorded.", sender_id)
            await output_channel.send_text_message(sender_id, STORE_DOWN_ANSWER)
            return Outcome.STORE_DOWN
        if not turn.replied:
            await output_channel.send_text_message(sender_id, NO_REPLY_APOLOGY)
            return Outcome.APOLOGIZED
        return Outcome.ANSWERED


def _log_failure(sender_id: str, task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("Handling a message of sender %r failed.", sender_id, exc_info=task.exception())
