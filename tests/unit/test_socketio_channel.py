"""The socket.io channel joins the session's room whatever python-socketio's enter_room is, only lets the
web page's origin connect, and passes every message through the guard."""

from __future__ import annotations

import asyncio
from pathlib import Path
from unittest import mock

import pytest
from rasa.core.run import create_http_input_channels

from channels import guard
from channels import socketio as channel_module
from channels.socketio import BienvenueSocketIOInput, join_room

REPO = Path(__file__).resolve().parents[2]


class CoroutineRooms:
    """enter_room as python-socketio >= 5.10 has it: a coroutine, that does nothing unless awaited."""

    def __init__(self) -> None:
        self.rooms: list[tuple[str, str]] = []

    async def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self.rooms.append((sid, room))


class PlainRooms:
    """enter_room as python-socketio 5.9 has it: a plain function."""

    def __init__(self) -> None:
        self.rooms: list[tuple[str, str]] = []

    def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self.rooms.append((sid, room))


@pytest.mark.parametrize("server", [CoroutineRooms(), PlainRooms()], ids=["coroutine", "function"])
def test_join_room_enters_the_room_either_way(server: CoroutineRooms | PlainRooms) -> None:
    asyncio.run(join_room(server, "socket-1", "session-a"))  # type: ignore[arg-type]
    assert server.rooms == [("socket-1", "session-a")]


def make_channel(session_persistence: bool = True) -> BienvenueSocketIOInput:
    channel = BienvenueSocketIOInput(session_persistence=session_persistence)
    channel.blueprint(mock.AsyncMock())
    return channel


def request_session(channel: BienvenueSocketIOInput, data: object) -> tuple[mock.AsyncMock, mock.AsyncMock]:
    """Sends session_request through the handler the socket.io server dispatches to, with a coroutine
    enter_room; returns the enter_room and emit mocks."""
    handler = channel.sio.handlers["/"]["session_request"]
    with (
        mock.patch.object(channel.sio, "enter_room", mock.AsyncMock()) as enter_room,
        mock.patch.object(channel.sio, "emit", mock.AsyncMock()) as emit,
    ):
        asyncio.run(handler("socket-1", data))
    return enter_room, emit


def test_session_request_awaits_a_coroutine_enter_room() -> None:
    enter_room, emit = request_session(make_channel(), {"session_id": "abc123"})
    enter_room.assert_awaited_once_with("socket-1", "abc123", namespace=None)
    emit.assert_awaited_once_with("session_confirm", "abc123", room="socket-1", namespace=None)


@pytest.mark.parametrize("data", [None, {}, {"session_id": None}, {"session_id": ""}, "not a dict"])
def test_session_request_without_id_gets_a_new_one(data: object) -> None:
    enter_room, emit = request_session(make_channel(), data)
    new_id = emit.await_args.args[1]
    assert len(new_id) == 32
    enter_room.assert_awaited_once_with("socket-1", new_id, namespace=None)


def test_session_request_without_persistence_joins_no_room() -> None:
    enter_room, emit = request_session(make_channel(session_persistence=False), {"session_id": "abc123"})
    enter_room.assert_not_called()
    emit.assert_awaited_once()


def connect(channel: BienvenueSocketIOInput, origin: str | None) -> bool:
    environ = {} if origin is None else {"HTTP_ORIGIN": origin}
    return asyncio.run(channel.sio.handlers["/"]["connect"]("socket-1", environ, None))


def test_socket_from_the_configured_origin_connects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(channel_module.ORIGIN_ENV, "https://bienvenue.example.gouv.fr")
    assert connect(make_channel(), "https://bienvenue.example.gouv.fr") is True


@pytest.mark.parametrize(
    "origin", ["https://pirate.example.org", "http://bienvenue.example.gouv.fr", "null", ""]
)
def test_socket_from_another_origin_is_refused(monkeypatch: pytest.MonkeyPatch, origin: str) -> None:
    monkeypatch.setenv(channel_module.ORIGIN_ENV, "https://bienvenue.example.gouv.fr")
    assert connect(make_channel(), origin) is False


def test_socket_origin_defaults_to_the_local_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(channel_module.ORIGIN_ENV, raising=False)
    monkeypatch.setenv("WEB_PORT", "8123")
    channel = make_channel()
    assert connect(channel, "http://localhost:8123") is True
    assert connect(channel, "http://localhost:9999") is False


def test_client_without_origin_connects() -> None:
    """Python clients and curl are no browsers: CORS does not concern them."""
    assert connect(make_channel(), None) is True


def test_origin_check_keeps_rasa_token_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(channel_module.ORIGIN_ENV, "https://bienvenue.example.gouv.fr")
    channel = BienvenueSocketIOInput(jwt_key="secret")
    channel.blueprint(mock.AsyncMock())
    assert connect(channel, "https://bienvenue.example.gouv.fr") is False


def test_credentials_use_the_guarded_channel_with_session_persistence() -> None:
    channels = create_http_input_channels(None, str(REPO / "credentials.yml"))
    socket_channels = [c for c in channels if isinstance(c, BienvenueSocketIOInput)]
    assert len(socket_channels) == 1
    assert socket_channels[0].session_persistence


def utter(channel: BienvenueSocketIOInput, data: dict) -> mock.AsyncMock:
    """Sends user_uttered through the channel's handler; returns the socket server's emit mock."""
    handler = channel.sio.handlers["/"]["user_uttered"]
    with mock.patch.object(channel.sio, "emit", mock.AsyncMock()) as emit:
        asyncio.run(handler("socket-1", data))
    return emit


def test_messages_reach_the_bot_through_the_guard() -> None:
    bot = mock.AsyncMock()
    channel = BienvenueSocketIOInput(session_persistence=True)
    channel.blueprint(bot)
    utter(channel, {"message": "c'est quoi <b>un</b> [intra](x) ?", "session_id": "abc123"})
    message = bot.await_args.args[0]
    assert message.text == "c'est quoi ‹b›un‹/b› (intra)(x) ?"
    assert message.sender_id == "abc123"
    assert message.input_channel == "socketio"


def test_a_message_the_guard_refuses_gets_its_answer_without_the_bot() -> None:
    bot = mock.AsyncMock()
    channel = BienvenueSocketIOInput(session_persistence=True)
    channel.blueprint(bot)
    emit = utter(channel, {"message": " \x00\x07 ", "session_id": "abc123"})
    bot.assert_not_called()
    emit.assert_awaited_once_with("bot_uttered", {"text": guard.EMPTY_MESSAGE_ANSWER}, room="abc123")


def test_a_turn_without_reply_gets_an_apology() -> None:
    channel = BienvenueSocketIOInput(session_persistence=True)
    channel.blueprint(mock.AsyncMock())  # a bot that says nothing
    emit = utter(channel, {"message": "bonjour", "session_id": "abc123"})
    emit.assert_awaited_once_with("bot_uttered", {"text": guard.NO_REPLY_APOLOGY}, room="abc123")


def test_session_request_replaces_an_unusable_id() -> None:
    _, emit = request_session(make_channel(), {"session_id": "x" * 500})
    assert len(emit.await_args.args[1]) == 32


def test_the_channel_reads_its_limits_when_it_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Like every channel: a bad limit stops the server at start-up, not at the first message."""
    monkeypatch.setenv(guard.MAX_MESSAGE_CHARS_ENV, "300")
    channel = BienvenueSocketIOInput()
    assert channel.guard == guard.Guard("socketio", guard.Limits(max_message_chars=300))
    monkeypatch.setenv(guard.MAX_MESSAGE_CHARS_ENV, "many")
    with pytest.raises(ValueError, match=guard.MAX_MESSAGE_CHARS_ENV):
        BienvenueSocketIOInput()
