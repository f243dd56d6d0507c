"""Rasa's socket.io channel, as the widget uses it: replies reach the session's room (session persistence),
and only the page's origin may talk to Rasa (socket.io and REST)."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import pytest
import requests
import socketio

from tests.integration.web.conftest import WebStack

REPLY_TIMEOUT_S = 120  # hang guard
FOREIGN_ORIGIN = "https://pirate.example.org"


async def converse(
    stack: WebStack, session_id: str, message: str, origin: str, transports: list[str] | None = None
) -> list[dict[str, Any]]:
    """Connects like the widget, asks for `session_id`, sends `message` and returns the bot's replies."""
    client = socketio.AsyncClient()
    replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    client.on("session_confirm", confirmed.set_result)
    client.on("bot_uttered", replies.put_nowait)
    await client.connect(
        stack.rasa_url, headers={"Origin": origin}, socketio_path="socket.io", transports=transports
    )
    try:
        await client.emit("session_request", {"session_id": session_id})
        assert await asyncio.wait_for(confirmed, REPLY_TIMEOUT_S) == session_id
        await client.emit("user_uttered", {"message": message, "session_id": session_id})
        received = [await asyncio.wait_for(replies.get(), REPLY_TIMEOUT_S)]
        await asyncio.sleep(1)  # let the rest of this turn's messages arrive
        while not replies.empty():
            received.append(replies.get_nowait())
        return received
    finally:
        await client.disconnect()


def user_messages(stack: WebStack, session_id: str) -> list[str]:
    with sqlite3.connect(stack.tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (session_id,)
        ).fetchall()
    return [row[0] for row in rows]


def test_replies_reach_the_session_and_survive_a_new_connection(web_stack: WebStack) -> None:
    session_id = uuid.uuid4().hex
    first = asyncio.run(converse(web_stack, session_id, "bonjour", web_stack.origin))
    assert any(reply.get("text") for reply in first)
    # A reload: a new socket asking for the same session keeps receiving replies in the same conversation.
    again = asyncio.run(converse(web_stack, session_id, "c'est quoi un intrapreneur ?", web_stack.origin))
    assert any(reply.get("text") for reply in again)
    assert len(user_messages(web_stack, session_id)) == 2


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_socket_from_another_site_is_refused(web_stack: WebStack, transport: str) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(converse(web_stack, uuid.uuid4().hex, "bonjour", FOREIGN_ORIGIN, [transport]))


def test_socket_polling_answers_only_the_page_origin_cors(web_stack: WebStack) -> None:
    url = f"{web_stack.rasa_url}/socket.io/?EIO=4&transport=polling"
    allowed = requests.get(url, headers={"Origin": web_stack.origin}, timeout=30)
    assert allowed.status_code == 200
    # Exactly one value: browsers reject a response that allows the origin twice.
    assert allowed.headers["Access-Control-Allow-Origin"] == web_stack.origin
    foreign = requests.get(url, headers={"Origin": FOREIGN_ORIGIN}, timeout=30)
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_rest_channel_allows_only_the_page_origin(web_stack: WebStack) -> None:
    url = f"{web_stack.rasa_url}/webhooks/rest/webhook"
    body = {"sender": uuid.uuid4().hex, "message": "bonjour"}
    allowed = requests.post(url, json=body, headers={"Origin": web_stack.origin}, timeout=REPLY_TIMEOUT_S)
    assert allowed.headers.get("Access-Control-Allow-Origin") == web_stack.origin
    foreign = requests.post(url, json=body, headers={"Origin": FOREIGN_ORIGIN}, timeout=REPLY_TIMEOUT_S)
    assert "Access-Control-Allow-Origin" not in foreign.headers
    preflight = requests.options(
        url,
        headers={
            "Origin": FOREIGN_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
