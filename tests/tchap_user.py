"""A Tchap user for the tests: a matrix-nio client (run with .venv-tchap's Python) driven by JSON lines.

Each line on stdin is a command ``{"op": ..., ...}``; each answer is one JSON line on stdout
``{"ok": result}`` or ``{"error": text}``. The client syncs in the background and keeps every event it sees
(decrypted when it can) so that the tests can count the bot's answers.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from typing import Any

from nio import AsyncClient, AsyncClientConfig, MegolmEvent, RoomCreateResponse


class User:
    def __init__(self) -> None:
        self.client: AsyncClient | None = None
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.sync_task: asyncio.Task | None = None

    async def login(self, homeserver: str, user_id: str, password: str) -> str:
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, max_timeouts=None)
        self.client = AsyncClient(homeserver, user_id, store_path=tempfile.mkdtemp(), config=config)
        await self.client.login(password, device_name="tests")
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self.sync_task = asyncio.ensure_future(self._sync_forever())
        return self.client.device_id

    async def _sync_forever(self) -> None:
        assert self.client is not None
        while True:
            response = await self.client.sync(timeout=1000)
            rooms = getattr(getattr(response, "rooms", None), "join", {})
            for room_id, info in rooms.items():
                for event in info.timeline.events:
                    self.events.setdefault(room_id, []).append(
                        {
                            "event_id": event.event_id,
                            "ts": event.server_timestamp,
                            "sender": event.sender,
                            "type": event.source.get("type"),
                            "content": event.source.get("content", {}),
                            "undecryptable": isinstance(event, MegolmEvent),
                            "decrypted": bool(getattr(event, "decrypted", False)),
                        }
                    )
            for coroutine in (self.client.send_to_device_messages(),):
                await coroutine
            if self.client.should_query_keys:
                await self.client.keys_query()
            if self.client.should_claim_keys:
                await self.client.keys_claim(self.client.get_users_for_key_claiming())

    async def create_room(self, invite: list[str], encrypted: bool, direct: bool, public: bool) -> str:
        assert self.client is not None
        initial_state = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        from nio import RoomPreset, RoomVisibility

        response = await self.client.room_create(
            visibility=RoomVisibility.public if public else RoomVisibility.private,
            preset=RoomPreset.public_chat if public else RoomPreset.trusted_private_chat,
            invite=invite,
            is_direct=direct,
            initial_state=initial_state,
        )
        if not isinstance(response, RoomCreateResponse):
            raise RuntimeError(str(response))
        return response.room_id

    async def joined(self, room: str) -> list[str]:
        assert self.client is not None
        response = await self.client.joined_members(room)
        return [member.user_id for member in getattr(response, "members", [])]

    async def send(self, room: str, content: dict[str, Any], type: str = "m.room.message") -> str:
        assert self.client is not None
        response = await self.client.room_send(room, type, content, ignore_unverified_devices=True)
        if not hasattr(response, "event_id"):
            raise RuntimeError(str(response))
        return response.event_id

    async def send_raw(self, room: str, type: str, content: dict[str, Any]) -> str:
        """An event sent as given, never encrypted by the client (a forged encrypted event, say)."""
        assert self.client is not None
        from nio import Api, RoomSendResponse

        method, path, data = Api.room_send(
            self.client.access_token, room, type, content, "raw-" + str(id(content))
        )
        response = await self.client._send(RoomSendResponse, method, path, data, (room,))
        return response.event_id

    async def kick(self, room: str, user_id: str) -> None:
        assert self.client is not None
        await self.client.room_kick(room, user_id)

    async def membership(self, room: str, user_id: str) -> str | None:
        assert self.client is not None
        response = await self.client.room_get_state_event(room, "m.room.member", user_id)
        return getattr(response, "content", {}).get("membership")

    async def join(self, room: str) -> None:
        """Joins, and returns once the background sync knows the room (sending needs its members)."""
        assert self.client is not None
        await self.client.join(room)
        while room not in self.client.rooms:
            await asyncio.sleep(0.1)

    async def invite(self, room: str, user_id: str) -> None:
        assert self.client is not None
        await self.client.room_invite(room, user_id)

    async def seen(self, room: str) -> list[dict[str, Any]]:
        return self.events.get(room, [])


async def serve() -> None:
    user = User()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        op = command.pop("op")
        try:
            result = await getattr(user, op)(**command)
            print(json.dumps({"ok": result}), flush=True)
        except Exception as error:  # reported to the test, which fails with it
            print(json.dumps({"error": repr(error)}), flush=True)
    if user.client is not None:
        await user.client.close()


if __name__ == "__main__":
    asyncio.run(serve())
