"""The channel of the terminal chat (`make chat`, package chat/): the REST channel's request, behind the
guard, with an answer that also says how the message was understood.

POST /webhooks/terminal/webhook with the REST channel's request, JSON ``{"sender": ..., "message": ...}``
(same parsing, same 4xx errors), answers
``{"messages": [...], "intent": {"name": ..., "confidence": ...} | null, "topic": ... | null}``: the bot's
messages as the REST channel sends them, the intent of the message (None when the guard refused it) and the
`topic` slot afterwards, both read from the tracker store. The batch mode prints them; the HTTP API that could
serve the tracker stays off.

Only chat/credentials.yml lists this channel: it is served by the Rasa server `make chat` starts on loopback,
never by the public one (intents and confidences are the maintainers' business).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard
from channels.body import RequestError
from channels.rest import parse_request


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
        self.guard = guard.Guard.from_env(self.name())

    @classmethod
    def name(cls) -> str:
        return "terminal"

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
            if outcome is guard.Outcome.STORE_DOWN:
                return response.json({"messages": collector.messages, "intent": None, "topic": None}, 503)
            tracker = await request.app.ctx.agent.tracker_store.retrieve(parsed.sender_id)
            return response.json({"messages": collector.messages, **understanding(tracker, outcome)})

        return webhook
