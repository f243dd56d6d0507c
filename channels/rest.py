"""Rasa's REST channel (same name and route: POST /webhooks/rest/webhook) behind Bienvenue's guard.

Differences with Rasa 3.6.21's RestInput, which answers 200 with an empty list or a 500 to most bad requests:
- a request that is not a JSON object with a string ``message`` and a valid ``sender`` gets a clean 4xx with
  a JSON body ``{"error": code, "message": French explanation}``;
- messages go through channels.guard: refusals, cleaning, never a silent turn, 503 when the tracker store is
  down;
- the client cannot set ``metadata`` (stored in the tracker as is) nor ``input_channel`` (the channel recorded
  in the conversation), and ``?stream=true`` is ignored: one JSON list of messages per request.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard

EXAMPLE = '{"sender": "moi", "message": "bonjour"}'
WRONG_CONTENT_TYPE = "Envoyez le message en JSON, avec l'en-tête Content-Type: application/json."
INVALID_JSON = f"Le corps de la requête doit être un objet JSON valide (UTF-8), par exemple {EXAMPLE}."
INVALID_MESSAGE = f"Le champ « message » doit contenir le texte de votre question, par exemple {EXAMPLE}."


@dataclass(frozen=True)
class RestMessage:
    sender_id: str
    text: str


@dataclass(frozen=True)
class RestError:
    status: int
    code: str
    message: str  # French, for whoever wrote the client

    def response(self) -> HTTPResponse:
        return response.json({"error": self.code, "message": self.message}, status=self.status)


def parse_request(content_type: str | None, body: bytes) -> RestMessage | RestError:
    """The sender and text of a webhook request, or the 4xx it deserves."""
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        return RestError(415, "unsupported_media_type", WRONG_CONTENT_TYPE)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        return RestError(400, "invalid_json", INVALID_JSON)
    sender_id = payload.get("sender")
    sender_error = guard.check_sender_id(sender_id)
    if sender_error is not None:
        return RestError(400, "invalid_sender", sender_error)
    text = payload.get("message")
    if not isinstance(text, str):
        return RestError(400, "invalid_message", INVALID_MESSAGE)
    return RestMessage(sender_id=sender_id, text=text)  # type: ignore[arg-type]  # checked by check_sender_id


class BienvenueRestInput(RestInput):
    """POST /webhooks/rest/webhook with a JSON ``{"sender": ..., "message": ...}``; answers a JSON list."""

    def __init__(self) -> None:
        self.limits = guard.Limits.from_env()

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            parsed = parse_request(request.content_type, request.body)
            if isinstance(parsed, RestError):
                return parsed.response()
            collector = CollectingOutputChannel()
            outcome = await guard.handle_message(
                on_new_message, parsed.text, collector, parsed.sender_id, self.name(), self.limits
            )
            status = 503 if outcome is guard.Outcome.STORE_DOWN else 200
            return response.json(collector.messages, status=status)

        return webhook
