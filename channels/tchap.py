"""The Rasa side of Tchap: the route the Tchap client process (``python -m tchap``, its own environment)
hands the questions it reads in Matrix to.

``POST /webhooks/tchap/webhook`` with ``Authorization: Bearer <TCHAP_CHANNEL_TOKEN>`` and a JSON body
``{"sender": "tchap:<room>:<user>", "message": "...", "message_id": "<Matrix event id>"}``; answers
``{"messages": [...]}`` (Rasa's bot messages: text, buttons). Without the token: 401; a wrong one: 403;
without TCHAP_CHANNEL_TOKEN in the server's environment the routes answer 503 and the rest of the server runs.

A message id already handled (the client retries after a lost connection or a restart) gets the same
answers again without a second turn, so the conversation records each question once.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard
from channels.body import RequestError

logger = logging.getLogger(__name__)

TOKEN_ENV = "TCHAP_CHANNEL_TOKEN"
MIN_TOKEN_CHARS = 16
# Matrix room and user ids are at most 255 characters each.
MAX_SENDER_CHARS = 600
MAX_MESSAGE_ID_CHARS = 255
# Answers kept for retried message ids: far more than the questions in flight at any time.
REMEMBERED_ANSWERS = 2048

NOT_CONFIGURED = (
    f"Le canal Tchap n'est pas configuré : {TOKEN_ENV} manquante ou trop courte "
    f"({MIN_TOKEN_CHARS} caractères au moins)."
)
MISSING_TOKEN = "Jeton absent : cette route n'accepte que les requêtes du client Tchap de Bienvenue."
WRONG_TOKEN = "Jeton invalide : cette route n'accepte que les requêtes du client Tchap de Bienvenue."
INVALID_REQUEST = (
    'Le corps doit être un objet JSON {"sender": "tchap:<salon>:<utilisateur>", "message": "...", '
    '"message_id": "..."}.'
)


def configured_token(environ: Mapping[str, str]) -> str | None:
    token = environ.get(TOKEN_ENV, "").strip()
    return token if len(token) >= MIN_TOKEN_CHARS else None


def authorization_error(header: str | None, token: str) -> RequestError | None:
    if not header or not header.startswith("Bearer ") or not header[7:].strip():
        return RequestError(401, "missing_token", MISSING_TOKEN)
    if not hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return RequestError(403, "wrong_token", WRONG_TOKEN)
    return None


def _clean_id(value: object, max_chars: int) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_chars
        and not any(unicodedata.category(char) in ("Cc", "Cs") or char.isspace() for char in value)
    )


def parse_body(body: bytes) -> tuple[str, str, str] | None:
    """(sender, message, message id), or None when the request is not what the client sends."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    sender, message, message_id = payload.get("sender"), payload.get("message"), payload.get("message_id")
    if not _clean_id(sender, MAX_SENDER_CHARS) or not sender.startswith("tchap:"):  # type: ignore[union-attr]
        return None
    if not isinstance(message, str) or not _clean_id(message_id, MAX_MESSAGE_ID_CHARS):
        return None
    return sender, message, message_id  # type: ignore[return-value]


class TchapInput(InputChannel):
    """``channels.tchap.TchapInput`` in credentials.yml, with no keys: the token comes from the environment
    (TCHAP_CHANNEL_TOKEN)."""

    @classmethod
    def name(cls) -> str:
        return "tchap"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if credentials:
            logger.warning("Tchap: the keys %s of credentials.yml are ignored.", sorted(credentials))
        return cls(configured_token(os.environ))

    def __init__(self, token: str | None, limits: guard.Limits | None = None) -> None:
        self.token = token
        self.guard = guard.Guard(self.name(), limits) if limits else guard.Guard.from_env(self.name())
        self._answers: OrderedDict[str, asyncio.Future] = OrderedDict()
        if token is None:
            logger.warning("Tchap channel not configured, its routes answer 503: %s", NOT_CONFIGURED)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("tchap_webhook")
        bot = self.guard.connect(on_new_message)
        not_configured = RequestError(503, "not_configured", NOT_CONFIGURED)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if self.token is None:
                return not_configured.response()
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.token is None:
                return not_configured.response()
            refused = authorization_error(request.headers.get("authorization"), self.token)
            if refused is not None:
                logger.warning("Tchap: request from %s refused with %d.", request.ip, refused.status)
                return refused.response()
            parsed = parse_body(request.body)
            if parsed is None:
                return RequestError(400, "invalid_request", INVALID_REQUEST).response()
            sender, text, message_id = parsed
            messages = await self._answer_once(bot, sender, text, message_id)
            return response.json({"messages": messages})

        return webhook

    async def _answer_once(
        self, bot: guard.GuardedBot, sender: str, text: str, message_id: str
    ) -> list[dict[str, Any]]:
        known = self._answers.get(message_id)
        if known is None:
            known = asyncio.ensure_future(self._turn(bot, sender, text, message_id))
            self._answers[message_id] = known
            while len(self._answers) > REMEMBERED_ANSWERS:
                self._answers.popitem(last=False)
        try:
            return await asyncio.shield(known)
        except Exception:
            self._answers.pop(message_id, None)  # a failed turn may be retried
            raise

    @staticmethod
    async def _turn(bot: guard.GuardedBot, sender: str, text: str, message_id: str) -> list[dict[str, Any]]:
        collector = CollectingOutputChannel()
        await bot.handle(text, sender, collector, message_id=message_id)
        return collector.messages
