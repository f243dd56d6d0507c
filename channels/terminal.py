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

from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard
from channels.rest import BienvenueRestInput, RestMessage


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


class TerminalInput(BienvenueRestInput):
    """The REST channel's request and guard; the answer also says how the message was understood."""

    @classmethod
    def name(cls) -> str:
        return "terminal"

    async def answer(
        self, request: Request, message: RestMessage, replies: list[dict[str, Any]], outcome: guard.Outcome
    ) -> HTTPResponse:
        if outcome is guard.Outcome.STORE_DOWN:
            return response.json({"messages": replies, "intent": None, "topic": None}, status=503)
        tracker = await request.app.ctx.agent.tracker_store.retrieve(message.sender_id)
        return response.json({"messages": replies, **understanding(tracker, outcome)})
