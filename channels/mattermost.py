"""Bienvenue in a Mattermost team: outgoing webhooks, the ``/bienvenue`` slash command and signed buttons.

Replaces Rasa 3.6.21's built-in Mattermost channel on the same routes (``POST /webhooks/mattermost/webhook``,
``GET /webhooks/mattermost/``) and fixes what it gets wrong:
- every request is authenticated: the outgoing-webhook or slash-command token is compared in constant time
  (missing: 401, wrong: 403) and button clicks, which carry no token, must bring back a context signed by the
  bot (HMAC-SHA256); a refused request reaches neither the bot nor Mattermost;
- no loops: posts of the bot itself, of other bots (``from_bot``) and of integrations (``from_webhook``)
  are ignored;
- answers go to the question's channel and thread; the slash command works in direct messages and private
  channels, where outgoing webhooks never fire;
- JSON and form-encoded (Mattermost's default) requests; answers are JSON (``{}`` or a slash command
  response), never the plain text ``success``; no word of the question is dropped when the hook has no
  trigger word;
- the request is answered at once and the bot's answers are posted afterwards with aiohttp, so a slow turn
  neither blocks the server nor exceeds Mattermost's timeout; 201 is success; failed posts are retried,
  then logged with their context, and the next messages go through once Mattermost is back.

Configuration comes from environment variables only (see ``Settings``): without them the routes answer 503
with a JSON explanation and the rest of the server runs as usual.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard

logger = logging.getLogger(__name__)

# Mattermost's largest post, in characters (runes); longer answers are split.
MAX_POST_CHARS = 16383
# Mattermost ids: 26 lowercase base32 characters.
ID_PATTERN = re.compile(r"[a-z0-9]{26}")
# A slash command's response_url accepts at most 5 messages (Mattermost's CommandWebhook.TryUse limit).
RESPONSE_URL_USES = 5
# Waits between attempts when Mattermost is unreachable or answers 429/5xx: about 15 s in all.
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0)
REQUEST_TIMEOUT_S = 10.0
# On shutdown, answers still being computed or posted get this long to finish.
DRAIN_TIMEOUT_S = 30.0
BUTTON_SECRET_LABEL = b"bienvenue/mattermost/buttons"

ENV_URL = "MATTERMOST_URL"
ENV_BOT_TOKEN = "MATTERMOST_BOT_TOKEN"
ENV_WEBHOOK_TOKENS = "MATTERMOST_WEBHOOK_TOKENS"
ENV_SLASH_TOKENS = "MATTERMOST_SLASH_TOKENS"
ENV_BUTTON_SECRET = "MATTERMOST_BUTTON_SECRET"
ENV_BOT_USER_ID = "MATTERMOST_BOT_USER_ID"
ENV_CALLBACK_URL = "MATTERMOST_CALLBACK_URL"

NOT_CONFIGURED = "Le canal Mattermost n'est pas configuré : {problems}."
MISSING_TOKEN = "Jeton absent : cette route n'accepte que les requêtes de votre serveur Mattermost."
WRONG_TOKEN = "Jeton invalide : cette route n'accepte que les requêtes de votre serveur Mattermost."
BAD_SIGNATURE = "Bouton non reconnu : son contexte n'est pas signé par Bienvenue."
UNSUPPORTED_MEDIA = (
    "Type de contenu non pris en charge : envoyez application/json ou application/x-www-form-urlencoded."
)
INVALID_BODY = "Corps de requête illisible : un objet JSON ou un formulaire encodé en UTF-8 est attendu."
INVALID_FIELD = "Champ « {name} » absent ou invalide."
TEXT_TOO_LONG = f"Texte trop long : un message Mattermost compte au plus {MAX_POST_CHARS} caractères."
SLASH_ACK = "Votre question : « {question} »"
SLASH_ACK_QUESTION_CHARS = 300
CHOICES_INTRO = "Pour continuer, vous pouvez taper :"


# Posts the bot's messages of one turn where they belong.
Deliver = Callable[[list[dict[str, Any]]], Awaitable[None]]


class Kind(Enum):
    WEBHOOK = "outgoing_webhook"
    SLASH = "slash_command"
    CLICK = "button"


class Refusal(Exception):
    """A request that gets a 4xx with a JSON ``{"error": message}`` and nothing else."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- Configuration -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    api_url: str = ""  # Mattermost's API base, ending with /api/v4
    bot_token: str = ""
    webhook_tokens: tuple[str, ...] = ()
    slash_tokens: tuple[str, ...] = ()
    button_secret: bytes = b""
    bot_user_id: str = ""  # learned from GET /users/me when not given
    callback_url: str = ""  # where Mattermost sends button clicks; by default the URL it called
    problems: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return not self.problems

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        problems = []
        api_url = api_base_url(environ.get(ENV_URL, ""))
        if not api_url:
            problems.append(f"{ENV_URL} manquante ou invalide (par exemple https://chat.exemple.fr/api/v4)")
        bot_token = environ.get(ENV_BOT_TOKEN, "").strip()
        if not bot_token:
            problems.append(f"{ENV_BOT_TOKEN} manquante (jeton d'accès du compte bot)")
        webhook_tokens = split_tokens(environ.get(ENV_WEBHOOK_TOKENS, ""))
        slash_tokens = split_tokens(environ.get(ENV_SLASH_TOKENS, ""))
        if not webhook_tokens and not slash_tokens:
            problems.append(f"{ENV_WEBHOOK_TOKENS} ou {ENV_SLASH_TOKENS} manquante (jetons des intégrations)")
        bot_user_id = environ.get(ENV_BOT_USER_ID, "").strip()
        if bot_user_id and not ID_PATTERN.fullmatch(bot_user_id):
            problems.append(f"{ENV_BOT_USER_ID} invalide (26 caractères a-z et 0-9)")
        callback_url = environ.get(ENV_CALLBACK_URL, "").strip()
        if callback_url and not is_http_url(callback_url):
            problems.append(f"{ENV_CALLBACK_URL} invalide (adresse http ou https)")
        secret = environ.get(ENV_BUTTON_SECRET, "").strip().encode()
        return cls(
            api_url=api_url,
            bot_token=bot_token,
            webhook_tokens=webhook_tokens,
            slash_tokens=slash_tokens,
            button_secret=secret or derive_button_secret(bot_token),
            bot_user_id=bot_user_id,
            callback_url=callback_url,
            problems=tuple(problems),
        )


def split_tokens(raw: str) -> tuple[str, ...]:
    # Empty entries are dropped: an empty token would accept a request without one.
    return tuple(token for token in (part.strip() for part in raw.split(",")) if token)


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def api_base_url(raw: str) -> str:
    """``https://host[/prefix]/api/v4`` from the server address, with or without /api/v4; "" if invalid."""
    url = raw.strip().rstrip("/")
    if not is_http_url(url):
        return ""
    return url if url.endswith("/api/v4") else f"{url}/api/v4"


def derive_button_secret(bot_token: str) -> bytes:
    # Without MATTERMOST_BUTTON_SECRET, a key that only whoever holds the bot token can compute.
    return hmac.new(bot_token.encode(), BUTTON_SECRET_LABEL, hashlib.sha256).digest()


# --- Authentication ----------------------------------------------------------------------------------------


def token_matches(candidate: str, tokens: Sequence[str]) -> bool:
    """Constant-time comparison with every configured token (bytes, so that any text can be compared)."""
    given = candidate.encode()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given, token.encode())
    return matched and bool(candidate)


def check_token(fields: Mapping[str, Any], tokens: Sequence[str]) -> None:
    token = fields.get("token")
    if not isinstance(token, str) or not token:
        raise Refusal(401, MISSING_TOKEN)
    if not token_matches(token, tokens):
        raise Refusal(403, WRONG_TOKEN)


def _signature(secret: bytes, action: str, channel_id: str, root_id: str) -> str:
    signed = json.dumps([action, channel_id, root_id], ensure_ascii=False, separators=(",", ":"))
    return hmac.new(secret, signed.encode(), hashlib.sha256).hexdigest()


def sign_context(secret: bytes, action: str, channel_id: str, root_id: str) -> dict[str, str]:
    """A button's context: the payload to send to the bot and where to answer, signed together."""
    return {
        "action": action,
        "channel_id": channel_id,
        "root_id": root_id,
        "signature": _signature(secret, action, channel_id, root_id),
    }


def verify_context(secret: bytes, context: object, channel_id: object) -> tuple[str, str]:
    """The (payload, thread root) of a click whose context the bot signed for this channel; else 403."""
    if not isinstance(context, dict) or not isinstance(channel_id, str):
        raise Refusal(403, BAD_SIGNATURE)
    values = [context.get(key) for key in ("action", "channel_id", "root_id", "signature")]
    if not all(isinstance(value, str) for value in values):
        raise Refusal(403, BAD_SIGNATURE)
    action, signed_channel, root_id, signature = values
    expected = _signature(secret, action, signed_channel, root_id)
    if not hmac.compare_digest(signature.encode(), expected.encode()) or signed_channel != channel_id:
        raise Refusal(403, BAD_SIGNATURE)
    return action, root_id


# --- Requests ----------------------------------------------------------------------------------------------


def parse_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    """The request's fields: a JSON object or a form (first value of each field)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        try:
            fields = json.loads(body)
        except (ValueError, RecursionError):  # includes JSONDecodeError and UnicodeDecodeError
            raise Refusal(400, INVALID_BODY) from None
        if not isinstance(fields, dict):
            raise Refusal(400, INVALID_BODY)
        return fields
    if media_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise Refusal(400, INVALID_BODY) from None
        return {name: values[0] for name, values in form.items()}
    raise Refusal(415, UNSUPPORTED_MEDIA)


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
        raise Refusal(400, INVALID_FIELD.format(name=name))
    return value


def field_text(fields: Mapping[str, Any], name: str, optional: bool = False) -> str:
    value = fields.get(name, "" if optional else None)
    if not isinstance(value, str):
        raise Refusal(400, INVALID_FIELD.format(name=name))
    if len(value) > MAX_POST_CHARS:
        raise Refusal(413, TEXT_TOO_LONG)
    return value


def question_text(text: str, trigger_word: str) -> str:
    """The question without the trigger word that starts it; a hook without trigger word keeps every word."""
    words = text.split(maxsplit=1)
    if trigger_word and words and words[0].casefold().startswith(trigger_word.casefold()):
        return words[1] if len(words) > 1 else ""
    return text.strip()


@dataclass(frozen=True)
class Question:
    kind: Kind
    text: str
    user_id: str
    channel_id: str
    post_id: str = ""  # outgoing webhook: the question's post
    root_id: str = ""  # button: the thread to answer in
    response_url: str = ""  # slash command
    command: str = ""  # slash command, e.g. /bienvenue
    metadata: dict[str, Any] = field(default_factory=dict)


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
    if not is_http_url(response_url):
        raise Refusal(400, INVALID_FIELD.format(name="response_url"))
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


def parse_click(fields: Mapping[str, Any], settings: Settings) -> Question:
    action, root_id = verify_context(settings.button_secret, fields.get("context"), fields.get("channel_id"))
    return Question(
        kind=Kind.CLICK,
        text=action,
        user_id=field_id(fields, "user_id"),
        channel_id=field_id(fields, "channel_id"),
        root_id=root_id,
        metadata=_metadata(fields, Kind.CLICK, root_id=root_id),
    )


def parse_request(content_type: str | None, body: bytes, settings: Settings) -> Question | None:
    """The question a request brings, None if there is none; raises Refusal for a request to refuse."""
    fields = parse_body(content_type, body)
    kind = request_kind(fields)
    if kind is Kind.SLASH:
        return parse_slash(fields, settings)
    if kind is Kind.CLICK:
        return parse_click(fields, settings)
    return parse_webhook(fields, settings)


def slash_ack(question: Question) -> dict[str, str]:
    """The slash command's immediate answer (only its author sees it); the bot's answer follows."""
    shown = question.text
    if len(shown) > SLASH_ACK_QUESTION_CHARS:
        shown = shown[:SLASH_ACK_QUESTION_CHARS].rstrip() + "…"
    return {"response_type": "ephemeral", "text": SLASH_ACK.format(question=shown) if shown else ""}


# --- Posts -------------------------------------------------------------------------------------------------


def is_automated(post: Mapping[str, Any]) -> bool:
    """A post by a bot account or an integration (Mattermost marks them in props): never answered."""
    props = post.get("props") or {}
    return isinstance(props, dict) and any(
        str(props.get(key, "")).lower() == "true" for key in ("from_bot", "from_webhook")
    )


def thread_root(post: Mapping[str, Any], post_id: str) -> str:
    """The root of the post's thread: its own root_id when it is a reply, else the post itself."""
    root_id = post.get("root_id")
    return root_id if isinstance(root_id, str) and root_id else post_id


def split_message(text: str, limit: int = MAX_POST_CHARS) -> list[str]:
    """Non-empty pieces of at most ``limit`` characters, cut between paragraphs, lines or words if can be."""
    pieces = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = max(window.rfind(separator) for separator in ("\n\n", "\n", " "))
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


def message_text(message: Mapping[str, Any]) -> str:
    """A bot message as Markdown: its text, its image and its link buttons."""
    parts = []
    if isinstance(message.get("text"), str) and message["text"].strip():
        parts.append(message["text"].strip())
    if isinstance(message.get("image"), str) and message["image"]:
        parts.append(f"![]({message['image']})")
    if isinstance(message.get("attachment"), str) and message["attachment"]:
        parts.append(message["attachment"])
    links = [f"- [{button['title']}]({button['url']})" for button in buttons_of(message) if "url" in button]
    if links:
        parts.append("\n".join(links))
    return "\n\n".join(parts)


def buttons_of(message: Mapping[str, Any]) -> list[dict[str, str]]:
    """The message's usable buttons: a title and either a payload for the bot or a URL."""
    raw = message.get("buttons") or message.get("quick_replies") or []
    buttons = []
    for button in raw if isinstance(raw, list) else []:
        if not isinstance(button, dict) or not isinstance(button.get("title"), str):
            continue
        if isinstance(button.get("url"), str):
            buttons.append({"title": button["title"], "url": button["url"]})
        elif isinstance(button.get("payload"), str):
            buttons.append({"title": button["title"], "payload": button["payload"]})
    return buttons


def thread_posts(
    messages: Sequence[Mapping[str, Any]], channel_id: str, root_id: str, callback_url: str, secret: bytes
) -> list[dict[str, Any]]:
    """The posts that carry the bot's messages into a thread: one or more per message, buttons attached."""
    posts: list[dict[str, Any]] = []
    for message in messages:
        choices = [button for button in buttons_of(message) if "payload" in button]
        pieces = split_message(message_text(message)) or ([""] if choices else [])
        posts.extend({"channel_id": channel_id, "root_id": root_id, "message": piece} for piece in pieces)
        if choices:
            actions = [
                {
                    "id": f"choice{index}",  # Mattermost wants alphanumeric action ids
                    "type": "button",
                    "name": button["title"],
                    "integration": {
                        "url": callback_url,
                        "context": sign_context(secret, button["payload"], channel_id, root_id),
                    },
                }
                for index, button in enumerate(choices)
            ]
            posts[-1]["props"] = {"attachments": [{"actions": actions}]}
    return posts


def slash_responses(messages: Sequence[Mapping[str, Any]], command: str) -> list[dict[str, str]]:
    """The bot's messages as ephemeral slash command responses, buttons listed as commands to type."""
    parts = [text for text in (message_text(message) for message in messages) if text]
    titles = [
        button["title"].replace("`", "'")
        for message in messages
        for button in buttons_of(message)
        if "payload" in button
    ]
    if titles:
        parts.append("\n".join([CHOICES_INTRO, *(f"- `{command} {title}`" for title in titles)]))
    pieces = split_message("\n\n".join(parts))[:RESPONSE_URL_USES]
    return [{"response_type": "ephemeral", "text": piece} for piece in pieces]


class MattermostOutput(OutputChannel):
    """Collects the bot's messages of one turn; they are posted once the turn is over."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    @classmethod
    def name(cls) -> str:
        return "mattermost"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.messages.append({"text": text})


# --- Mattermost API ----------------------------------------------------------------------------------------


class MattermostError(Exception):
    def __init__(self, what: str, status: int | None, detail: str) -> None:
        super().__init__(f"{what}: {status or 'no answer'} {detail}")
        self.status = status


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class MattermostApi:
    """The few calls the channel makes, with aiohttp; 2xx is success, 429/5xx and network errors retried."""

    def __init__(
        self,
        api_url: str,
        bot_token: str,
        retry_delays: Sequence[float] = RETRY_DELAYS_S,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.api_url = api_url
        self._bot_token = bot_token
        self.retry_delays = tuple(retry_delays)
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def create_post(self, post: Mapping[str, Any]) -> Any:
        return await self._call("POST", f"{self.api_url}/posts", "POST /posts", post)

    async def get_post(self, post_id: str) -> Any:
        return await self._call("GET", f"{self.api_url}/posts/{post_id}", f"GET /posts/{post_id}")

    async def me(self) -> Any:
        return await self._call("GET", f"{self.api_url}/users/me", "GET /users/me")

    async def respond(self, response_url: str, payload: Mapping[str, Any]) -> Any:
        # The response_url is itself the credential: no bot token, and it is kept out of the logs.
        return await self._call("POST", response_url, "POST response_url", payload, authenticated=False)

    async def _call(
        self,
        method: str,
        url: str,
        what: str,
        payload: Mapping[str, Any] | None = None,
        authenticated: bool = True,
    ) -> Any:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {"Authorization": f"Bearer {self._bot_token}"} if authenticated else {}
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._session.request(method, url, json=payload, headers=headers) as reply:
                    body = await reply.text()
                if 200 <= reply.status < 300:
                    return _json_or_none(body)
                error = MattermostError(what, reply.status, body[:300])
                if not _retryable(reply.status):
                    raise error
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error = MattermostError(what, None, repr(exc))
            if attempt > len(self.retry_delays):
                raise error
            delay = self.retry_delays[attempt - 1]
            logger.warning("Mattermost %s failed (try %d): %s; retry in %s s.", what, attempt, error, delay)
            await asyncio.sleep(delay)


def _json_or_none(body: str) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


# --- The channel -------------------------------------------------------------------------------------------


class KeyedLocks:
    """One FIFO lock per key, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class MattermostInput(InputChannel):
    """``channels.mattermost.MattermostInput`` in credentials.yml, with no keys: see ``Settings``."""

    @classmethod
    def name(cls) -> str:
        return "mattermost"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if credentials:
            logger.warning(
                "Mattermost: the keys %s of credentials.yml are ignored; the channel reads MATTERMOST_* "
                "environment variables only.",
                sorted(credentials),
            )
        return cls(Settings.from_env(os.environ))

    def __init__(
        self, settings: Settings, api: MattermostApi | None = None, limits: guard.Limits | None = None
    ) -> None:
        self.settings = settings
        self.api = api or MattermostApi(settings.api_url, settings.bot_token)
        self.limits = limits or guard.Limits.from_env()
        self._bot_user_id = settings.bot_user_id
        self._identity_lock = asyncio.Lock()
        self._conversations = KeyedLocks()
        self._jobs: set[asyncio.Task] = set()
        if not settings.configured:
            logger.warning("Mattermost channel not configured, its routes answer 503: %s", settings.problems)

    @property
    def pending(self) -> int:
        """Questions accepted whose answers are not posted yet."""
        return len(self._jobs)

    def not_configured(self) -> HTTPResponse:
        message = NOT_CONFIGURED.format(problems="; ".join(self.settings.problems))
        return response.json({"error": message}, status=503)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("mattermost_webhook")

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if not self.settings.configured:
                return self.not_configured()
            return response.json({"status": "ok", "pending": self.pending})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return self.not_configured()
            try:
                question = parse_request(request.headers.get("content-type"), request.body, self.settings)
            except Refusal as refusal:
                logger.warning("Mattermost: %s refused with %d: %s", request.ip, refusal.status, refusal)
                return response.json({"error": refusal.message}, status=refusal.status)
            if question is None or question.user_id == self._bot_user_id:
                return response.json({})
            callback_url = self.settings.callback_url or f"{request.scheme}://{request.host}{request.path}"
            self.start(self.answer(question, on_new_message, callback_url))
            return response.json(slash_ack(question) if question.kind is Kind.SLASH else {})

        @webhook.listener("before_server_stop")
        async def drain(*_: Any) -> None:
            if self._jobs:
                await asyncio.wait(set(self._jobs), timeout=DRAIN_TIMEOUT_S)

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.api.close()

        return webhook

    def start(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(job)
        self._jobs.add(task)  # also keeps the task referenced until it ends
        task.add_done_callback(self._jobs.discard)

    async def answer(
        self, question: Question, on_new_message: Callable[[UserMessage], Awaitable[Any]], callback_url: str
    ) -> None:
        """Runs the bot's turn for the question and posts its answers; failures are logged, never raised."""
        try:
            # One question at a time per user, taken before any wait: answers keep the order of the questions.
            async with self._conversations.hold(question.user_id):
                if question.kind is Kind.SLASH:
                    deliver = self._deliver_to_response_url(question)
                else:
                    root_id = question.root_id
                    if question.kind is Kind.WEBHOOK:
                        found = await self._thread_of(question)
                        if found is None:
                            return
                        root_id = found
                    deliver = self._deliver_to_thread(question, root_id, callback_url)
                output = MattermostOutput()
                await guard.handle_message(
                    on_new_message,
                    question.text,
                    output,
                    question.user_id,
                    self.name(),
                    self.limits,
                    metadata=question.metadata,
                )
                await deliver(output.messages)
        except Exception:
            logger.exception(
                "Mattermost: answering %s of user %s in channel %s failed.",
                question.kind.value,
                question.user_id,
                question.channel_id,
            )

    async def _bot_id(self) -> str:
        async with self._identity_lock:  # one GET /users/me for a burst of first questions
            if not self._bot_user_id:
                try:
                    me = await self.api.me()
                except MattermostError as error:
                    logger.error("Mattermost: cannot learn the bot's own user id: %s", error)
                    return ""
                if isinstance(me, dict) and isinstance(me.get("id"), str):
                    self._bot_user_id = me["id"]
        return self._bot_user_id

    async def _thread_of(self, question: Question) -> str | None:
        """The thread to answer a webhook's post in, or None when the post must not be answered."""
        if question.user_id == await self._bot_id():
            return None
        try:
            post = await self.api.get_post(question.post_id)
        except MattermostError as error:
            logger.warning("Mattermost: cannot read post %s, answering under it: %s", question.post_id, error)
            return question.post_id
        if not isinstance(post, dict):
            return question.post_id
        if is_automated(post) or post.get("user_id") == self._bot_user_id:
            logger.info("Mattermost: post %s is by a bot or an integration: not answered.", question.post_id)
            return None
        return thread_root(post, question.post_id)

    def _deliver_to_thread(
        self, question: Question, root_id: str, callback_url: str
    ) -> Deliver:
        async def deliver(messages: list[dict[str, Any]]) -> None:
            secret = self.settings.button_secret
            posts = thread_posts(messages, question.channel_id, root_id, callback_url, secret)
            for index, post in enumerate(posts):
                try:
                    await self.api.create_post(post)
                except MattermostError as error:
                    if error.status != 400 or not post["root_id"]:
                        self._log_lost(question, len(posts) - index, error)
                        return
                    # The thread is gone or the root was a guess: the answers go to the channel instead.
                    logger.warning(
                        "Mattermost: cannot answer in thread %s (%s); posting in the channel.",
                        post["root_id"],
                        error,
                    )
                    for later in posts[index:]:
                        later["root_id"] = ""
                    try:
                        await self.api.create_post(post)
                    except MattermostError as second_error:
                        self._log_lost(question, len(posts) - index, second_error)
                        return

        return deliver

    def _deliver_to_response_url(self, question: Question) -> Deliver:
        async def deliver(messages: list[dict[str, Any]]) -> None:
            responses = slash_responses(messages, question.command)
            for index, payload in enumerate(responses):
                try:
                    await self.api.respond(question.response_url, payload)
                except MattermostError as error:
                    self._log_lost(question, len(responses) - index, error)
                    return

        return deliver

    def _log_lost(self, question: Question, count: int, error: MattermostError) -> None:
        logger.error(
            "Mattermost: %d answer(s) to the %s of user %s in channel %s could not be posted: %s",
            count,
            question.kind.value,
            question.user_id,
            question.channel_id,
            error,
        )
