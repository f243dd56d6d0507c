"""The channel of the terminal chat (`make chat`, package chat/): the REST channel's request, behind the
guard, with an answer that also says how the message was understood.

POST /webhooks/terminal/webhook with a JSON ``{"sender": ..., "message": ...}`` answers
``{"messages": [...], "intent": {"name": ..., "confidence": ...} | null, "topic": ... | null}``: the bot's
messages as the REST channel sends them, the intent of the message (None when the guard refused it) and the
`topic` slot afterwards, both read from the tracker store. The batch mode prints them; the HTTP API that could
serve the tracker stays off.

Only chat/credentials.yml lists this channel: it is served by the Rasa server `make chat` starts on loopback,
never by the public one (intents and confidences are the maintainers' business).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard

INVALID_REQUEST = 'Envoyez un objet JSON {"sender": "…", "message": "…"} dont le message est un texte.'


def parse_request(body: bytes) -> tuple[str, str] | str:
    """The (sender, text) of a request, or the French error to answer with a 400."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return INVALID_REQUEST
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), str):
        return INVALID_REQUEST
    sender_error = guard.check_sender_id(payload.get("sender"))
    if sender_error is not None:
        return sender_error
    return payload["sender"], payload["message"]


def understanding(tracker: Any, outcome: guard.Outcome) -> dict[str, Any]:
    """The intent of the message just handled and the topic slot, from the tracker Rasa stored."""
    if tracker is None:
        return {"intent": None, "topic": None}
    intent = None
    if outcome is not guard.Outcome.REFUSED:  # otherwise the latest message is an older one
        parsed = tracker.latest_message.intent or {}
        if parsed.get("name"):
            intent = {"name": parsed["name"], "confidence": parsed.get("confidence")}
    return {"intent": intent, "topic": tracker.get_slot("topic")}


class TerminalInput(InputChannel):
    def __init__(self) -> None:
        self.limits = guard.Limits.from_env()

    @classmethod
    def name(cls) -> str:
        return "terminal"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            parsed = parse_request(request.body)
            if isinstance(parsed, str):
                return response.json({"error": "invalid_request", "message": parsed}, status=400)
            sender_id, text = parsed
            collector = CollectingOutputChannel()
            outcome = await guard.handle_message(
                on_new_message, text, collector, sender_id, self.name(), self.limits
            )
            if outcome is guard.Outcome.STORE_DOWN:
                return response.json({"messages": collector.messages, "intent": None, "topic": None}, 503)
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender_id)
            return response.json({"messages": collector.messages, **understanding(tracker, outcome)})

        return webhook
