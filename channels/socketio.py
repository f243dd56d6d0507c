"""Rasa's socket.io channel, made safe for Bienvenue's web page.

Three differences with Rasa 3.6.21's SocketIOInput:
- ``session_request`` awaits ``sio.enter_room`` when it is a coroutine (python-socketio >= 5.10). Rasa calls
  it without ``await``: with ``session_persistence`` the socket never joins its session's room and every
  bot reply is silently lost.
- a socket from a page of another site is refused: only the web page's origin(s), read from
  BIENVENUE_WEB_ORIGIN, may connect. Rasa turns engine.io's origin check off and leaves CORS to Sanic
  (`rasa run --cors`), whose headers only bind browsers on HTTP, not on WebSocket.
- every message goes through channels.guard (refusals, cleaning, never a silent turn), like on the other
  channels; a session id the guard would refuse is replaced by a new one.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from socketio import AsyncServer

import settings
from channels import guard

logger = logging.getLogger(__name__)

ORIGIN_ENV = "BIENVENUE_WEB_ORIGIN"  # default: the origin of `make run`'s page (settings.py)


async def join_room(sio: AsyncServer, sid: str, room: str, namespace: str | None = None) -> None:
    """Puts a socket in a room, whether this python-socketio's enter_room is synchronous or a coroutine."""
    joined = sio.enter_room(sid, room, namespace=namespace)
    if inspect.isawaitable(joined):
        await joined


class BienvenueSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with an origin allow-list and an awaited room join."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard.Guard.from_env(self.name())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bot = self.guard.connect(on_new_message)

        async def guarded(message: UserMessage) -> None:
            # Rasa's handler has read the event into `message`: the guard checks it and calls the bot.
            if guard.check_sender_id(message.sender_id) is not None:
                logger.warning("Dropped a socket.io message with an unusable session id.")
                return
            await bot.handle(
                message.text or "",
                message.sender_id,
                message.output_channel,
                metadata=message.metadata,
                message_id=message.message_id,
            )

        blueprint = super().blueprint(guarded)
        sio = cast(AsyncServer, self.sio)  # created by SocketIOInput.blueprint
        origins = settings.value(ORIGIN_ENV)
        rasa_connect = sio.handlers[self.namespace or "/"]["connect"]

        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            # Clients outside a browser send no Origin; browsers always do on WebSocket and on polling POSTs.
            origin = environ.get("HTTP_ORIGIN")
            if origin is not None and origin.rstrip("/") not in origins:
                return False
            return await rasa_connect(sid, environ, auth)

        # Registering an event again replaces Rasa's handler.
        sio.on("connect", namespace=self.namespace)(connect)
        sio.on("session_request", namespace=self.namespace)(self.session_request)
        return blueprint

    async def session_request(self, sid: str, data: Any) -> None:
        """Confirms the session id the client asked for (a new one if none) and joins its room."""
        sio = cast(AsyncServer, self.sio)
        session_id = data.get("session_id") if isinstance(data, dict) else None
        if session_id is None or guard.check_sender_id(session_id) is not None:
            session_id = uuid.uuid4().hex
        if self.session_persistence:
            await join_room(sio, sid, session_id, self.namespace)
        await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
