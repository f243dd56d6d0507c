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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard
from channels.body import RequestError, parse_body

EXAMPLE = '{"sender": "moi", "message": "bonjour"}'
WRONG_CONTENT_TYPE = "Envoyez le message en JSON, avec l'en-tête Content-Type: application/json."
INVALID_JSON = f"Le corps de la requête doit être un objet JSON valide (UTF-8), par exemple {EXAMPLE}."
INVALID_MESSAGE = f"Le champ « message » doit contenir le texte de votre question, par exemple {EXAMPLE}."


@dataclass(frozen=True)
class RestMessage:
    sender_id: str
    text: str


def parse_request(content_type: str | None, body: bytes) -> RestMessage:
    """The sender and text of a webhook request; raises RequestError with the 4xx it deserves."""
    payload = parse_body(content_type, body, wrong_type=WRONG_CONTENT_TYPE, invalid=INVALID_JSON)
    sender_id = payload.get("sender")
    sender_error = guard.check_sender_id(sender_id)
    if sender_error is not None:
        raise RequestError(400, "invalid_sender", sender_error)
    text = payload.get("message")
    if not isinstance(text, str):
        raise RequestError(400, "invalid_message", INVALID_MESSAGE)
    return RestMessage(sender_id=sender_id, text=text)  # type: ignore[arg-type]  # checked by check_sender_id


class BienvenueRestInput(RestInput):
    """POST /webhooks/rest/webhook with a JSON ``{"sender": ..., "message": ...}``; answers a JSON list."""

    def __init__(self) -> None:
        self.guard = guard.Guard.from_env(self.name())

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)
        bot = self.guard.connect(on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                parsed = parse_request(request.content_type, request.body)
            except RequestError as error:
                return error.response()
            collector = CollectingOutputChannel()
            outcome = await bot.handle(parsed.text, parsed.sender_id, collector)
            return await self.answer(request, parsed, collector.messages, outcome)

        return webhook

    async def answer(
        self, request: Request, message: RestMessage, replies: list[dict[str, Any]], outcome: guard.Outcome
    ) -> HTTPResponse:
        """The HTTP answer to a handled message: the bot's replies, 503 when they could not be recorded."""
        status = 503 if outcome is guard.Outcome.STORE_DOWN else 200
        return response.json(replies, status=status)
