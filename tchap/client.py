"""Bienvenue's Matrix account: syncs with the homeserver, hands the questions to the Rasa server's Tchap
channel (channels/tchap.py) and posts the answers, end-to-end encrypted where the room is.

Runs in its own environment (.venv-tchap: matrix-nio needs a newer aiohttp than Rasa 3.6 allows).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections import defaultdict
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    InviteMemberEvent,
    JoinError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    MessageDirection,
    ReactionEvent,
    RoomMemberEvent,
    RoomMessage,
    RoomMessagesResponse,
    RoomSendResponse,
    SyncResponse,
    UnknownEvent,
    WhoamiResponse,
)

from tchap import logic
from tchap.settings import Settings
from tchap.state import PendingEvent, State

logger = logging.getLogger("tchap")

SYNC_TIMEOUT_MS = 30_000
# Waits after a failed sync or Rasa call: doubled each time, up to the maximum.
FIRST_RETRY_S = 1.0
MAX_RETRY_S = 60.0
TYPING_TIMEOUT_MS = 30_000
# Messages longer than this are not sent to Rasa at all (the guard refuses them anyway, beyond 4 × 2000).
MAX_QUESTION_CHARS = 20_000
# Enough history per room and sync that a restart of a few minutes misses nothing (gaps are fetched anyway).
# An event that cannot be decrypted yet: its key often comes with one of the next syncs.
KEY_WAIT_S = 10.0
SYNC_FILTER = {"room": {"timeline": {"limit": 100}}, "presence": {"not_types": ["*"]}}


class RasaError(Exception):
    pass


class Rasa:
    """The Rasa server's Tchap channel; waits and retries while Rasa is down or restarting."""

    def __init__(self, url: str, token: str) -> None:
        self.url = f"{url}/webhooks/tchap/webhook"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def ask(self, conversation: str, text: str, message_id: str) -> list[dict[str, Any]]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300))
        body = {"sender": conversation, "message": text, "message_id": message_id}
        delay = FIRST_RETRY_S
        while True:
            try:
                async with self._session.post(self.url, json=body, headers=self._headers) as reply:
                    if reply.status == 200:
                        payload = await reply.json()
                        return [m for m in payload.get("messages", []) if isinstance(m, dict)]
                    detail = (await reply.text())[:300]
                    if reply.status < 500 and reply.status != 429:
                        raise RasaError(f"Rasa refused the message with {reply.status}: {detail}")
                    problem = f"{reply.status} {detail}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                problem = repr(error)
            logger.warning("Rasa unavailable (%s); retrying in %.0f s.", problem, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_S)


class Bot:
    def __init__(self, settings: Settings, client: AsyncClient, state: State, rasa: Rasa) -> None:
        self.settings = settings
        self.client = client
        self.state = state
        self.rasa = rasa
        self.identity = logic.Identity(settings.user_id)
        self._room_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._synced = asyncio.Condition()
        self._tasks: set[asyncio.Task] = set()

    # --- Start-up ---------------------------------------------------------------------------------------

    async def log_in(self) -> None:
        """Reuses the saved device (same keys: people's clients keep trusting it); logs in otherwise."""
        saved_token, saved_device = self.state.get("access_token"), self.state.get("device_id")
        if saved_token and saved_device and self.state.get("user_id") == self.settings.user_id:
            self.client.restore_login(self.settings.user_id, saved_device, saved_token)
            logger.info("Logged in again as %s, device %s.", self.settings.user_id, saved_device)
            return
        if self.settings.access_token:
            self.client.access_token = self.settings.access_token
            who = await self.client.whoami()
            if (
                not isinstance(who, WhoamiResponse)
                or who.user_id != self.settings.user_id
                or not who.device_id
            ):
                raise SystemExit(f"[tchap] TCHAP_ACCESS_TOKEN refusé ou d'un autre compte : {who}")
            self.client.restore_login(who.user_id, who.device_id, self.settings.access_token)
        else:
            self.client.device_id = saved_device  # logging in again keeps the same device when there is one
            login = await self.client.login(self.settings.password, device_name=self.settings.device_name)
            if not isinstance(login, LoginResponse):
                raise SystemExit(f"[tchap] connexion refusée par le serveur Matrix : {login}")
        self.state.set("user_id", self.settings.user_id)
        self.state.set("device_id", self.client.device_id)
        self.state.set("access_token", self.client.access_token)
        logger.info("Logged in as %s, device %s.", self.client.user_id, self.client.device_id)

    async def set_up_profile(self) -> None:
        if self.settings.display_name:
            await self.client.set_displayname(self.settings.display_name)
        profile = await self.client.get_displayname(self.settings.user_id)
        display_name = getattr(profile, "displayname", None) or ""
        self.identity = logic.Identity(self.settings.user_id, display_name)
        if self.client.should_upload_keys:
            await self.client.keys_upload()

    # --- Sync loop ----------------------------------------------------------------------------------------

    async def run(self) -> None:
        await self.log_in()
        await self.set_up_profile()
        self.state.prune()
        left_over = self.state.pending()  # received before a stop, not answered yet
        since = self.state.get("sync_token")
        first_sync = since is None
        # The first sync of a run brings every room's full state: rooms quiet since the last run included.
        full_state = True
        delay = FIRST_RETRY_S
        while True:
            response = await self.client.sync(
                timeout=0 if full_state else SYNC_TIMEOUT_MS,
                sync_filter=SYNC_FILTER,
                since=since,
                full_state=full_state,
            )
            if not isinstance(response, SyncResponse):
                if getattr(response, "status_code", "") in ("M_UNKNOWN_TOKEN", "M_FORBIDDEN"):
                    self.state.set("access_token", "")
                    raise SystemExit(f"[tchap] session refusée par le serveur Matrix : {response}")
                logger.warning("Sync failed (%s); retrying in %.0f s.", response, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_S)
                continue
            delay = FIRST_RETRY_S
            await self.handle_memberships(response)
            events, joined_seen = await self.events_to_handle(response, first_sync, since)
            for pending in self.state.record_sync(response.next_batch, events, joined_seen):
                self.start(pending)
            since, first_sync, full_state = response.next_batch, False, False
            for pending in left_over:
                self.start(pending)
            left_over = []
            await self.exchange_keys()
            async with self._synced:
                self._synced.notify_all()

    async def gap(self, room_id: str, prev_batch: str, since: str) -> list[Any]:
        """The events a limited sync left out (more than the filter's limit since the last sync), oldest
        first: after a long stop, busy rooms are read back to where the bot stopped."""
        older: list[Any] = []
        token = prev_batch
        while True:
            page = await self.client.room_messages(
                room_id, start=token, end=since, direction=MessageDirection.back, limit=100
            )
            if not isinstance(page, RoomMessagesResponse):
                logger.error("Cannot read the missed messages of %s: %s", room_id, page)
                break
            older.extend(page.chunk)
            if not page.chunk or not page.end or page.end == token:
                break
            token = page.end
        logger.info("Read %d missed events in %s.", len(older), room_id)
        return older[::-1]

    async def exchange_keys(self) -> None:
        await self.client.send_to_device_messages()
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())

    async def handle_memberships(self, response: SyncResponse) -> None:
        for room_id, invite in response.rooms.invite.items():
            inviter = next(
                (
                    event.sender
                    for event in invite.invite_state
                    if isinstance(event, InviteMemberEvent)
                    and event.state_key == self.settings.user_id
                    and event.membership == "invite"
                ),
                "",
            )
            if not logic.inviter_allowed(inviter, self.settings.allowed_domains):
                logger.info("Invitation to %s by %s declined (TCHAP_ALLOWED_DOMAINS).", room_id, inviter)
                await self.client.room_leave(room_id)
                continue
            self.state.mark_joined(room_id)
            joined = await self.client.join(room_id)
            if isinstance(joined, JoinError):
                logger.warning("Cannot join %s: %s", room_id, joined)
            else:
                logger.info("Joined %s, invited by %s.", room_id, inviter)
        for room_id in response.rooms.leave:
            logger.info("Left %s (kicked, banned or left).", room_id)
            self.state.forget_room(room_id)

    async def events_to_handle(
        self, response: SyncResponse, first_sync: bool, since: str | None
    ) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
        """The events of the sync that may need an answer, as plain dicts (decrypted when possible)."""
        events: list[tuple[str, dict[str, Any]]] = []
        joined_seen = []
        for room_id, info in response.rooms.join.items():
            room = self.client.rooms.get(room_id)
            just_joined = self.state.just_joined(room_id)
            if just_joined:
                joined_seen.append(room_id)
            # A room just joined: only what was sent once the bot was invited. First sync ever: nothing old.
            accepting = not first_sync and not just_joined
            timeline = list(info.timeline.events)
            if accepting and info.timeline.limited and since and info.timeline.prev_batch:
                timeline = [*await self.gap(room_id, info.timeline.prev_batch, since), *timeline]
            for event in timeline:
                if (
                    just_joined
                    and isinstance(event, RoomMemberEvent)
                    and event.state_key == self.settings.user_id
                    and event.membership in ("invite", "join")
                ):
                    accepting = True
                    continue
                if not accepting or room is None or event.sender == self.settings.user_id:
                    continue
                plain = as_plain_event(event)
                if plain is not None:
                    events.append((room_id, plain))
        return events, joined_seen

    # --- Answering ------------------------------------------------------------------------------------------

    def start(self, pending: PendingEvent) -> None:
        task = asyncio.ensure_future(self.handle(pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, pending: PendingEvent) -> None:
        event_id = pending.source["event_id"]
        async with self._room_locks[pending.room_id]:  # one question at a time per room, in order
            if self.state.is_done(event_id):
                return
            try:
                await self.answer(pending.room_id, pending.source)
            except RasaError as error:
                logger.error("Event %s in %s not answered: %s", event_id, pending.room_id, error)
            except Exception:
                logger.exception("Event %s in %s not answered.", event_id, pending.room_id)
            self.state.mark_done(event_id)

    def is_direct(self, room: MatrixRoom) -> bool:
        """A room with nobody but the person and the bot: every message there is a question."""
        return room.member_count <= 2

    def addressed(self, room: MatrixRoom, content: dict[str, Any]) -> bool:
        if self.is_direct(room):
            return True
        for related in (logic.reply_target(content), logic.thread_root(content)):
            if related and self.state.answer_conversation(related) is not None:
                return True
        return logic.mentions(content, self.identity)

    async def answer(self, room_id: str, source: dict[str, Any]) -> None:
        room = self.client.rooms.get(room_id)
        sender = source["sender"]
        if room is None or sender == self.settings.user_id or sender in self.settings.ignored_users:
            return
        content = source.get("content") or {}
        conversation = logic.conversation_id(room_id, sender)
        event_id = source["event_id"]
        if source.get("undecryptable"):
            decrypted = await self.decrypt_later(room_id, source)
            if decrypted is None:
                if self.addressed(room, content):
                    notice = logic.UNDECRYPTABLE_NOTICE
                    await self.send(room_id, event_id, notice, None, conversation, event_id)
                return
            source, content = decrypted, decrypted.get("content") or {}
        if source["type"] == "m.reaction":
            await self.answer_reaction(room, source, conversation)
            return
        if (
            content.get("msgtype") == "m.notice"
            or logic.is_edit(content)
            or not self.addressed(room, content)
        ):
            return  # notices are bots' messages; edits would ask the same question twice
        thread = logic.thread_root(content)
        if content.get("msgtype") not in ("m.text", "m.emote") or not isinstance(content.get("body"), str):
            await self.send(room_id, event_id, logic.UNSUPPORTED_NOTICE, thread, conversation, event_id)
            return
        body = content["body"][:MAX_QUESTION_CHARS]
        text = logic.question_text(body, self.identity)
        if logic.is_leave_command(text) and await self.may_moderate(room_id, sender):
            logger.info("Leaving %s, as asked by a moderator.", room_id)
            await self.send(room_id, event_id, logic.GOODBYE_NOTICE, thread, conversation, event_id)
            await self.client.room_leave(room_id)
            self.state.forget_room(room_id)
            return
        choices = self.state.choices(conversation)
        picked = logic.choice_index(text, len(choices))
        if picked is not None:
            text = choices[picked].payload
        await self.client.room_typing(room_id, True, TYPING_TIMEOUT_MS)
        try:
            messages = await self.rasa.ask(conversation, text, event_id)
        finally:
            await self.client.room_typing(room_id, False)
        self.state.set_choices(conversation, logic.answer_choices(messages))
        await self.send(room_id, event_id, logic.answer_text(messages), thread, conversation, event_id)

    async def decrypt_later(self, room_id: str, source: dict[str, Any]) -> dict[str, Any] | None:
        """The event decrypted with a key that came after it (next syncs, at most KEY_WAIT_S), or None."""
        encrypted = MegolmEvent.from_dict(source.get("encrypted") or {})
        if not isinstance(encrypted, MegolmEvent):
            return None
        encrypted.room_id = room_id
        deadline = asyncio.get_running_loop().time() + KEY_WAIT_S
        while True:
            try:
                return as_plain_event(self.client.decrypt_event(encrypted))
            except EncryptionError:
                pass
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return None
            try:
                async with self._synced:
                    await asyncio.wait_for(self._synced.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def answer_reaction(self, room: MatrixRoom, source: dict[str, Any], conversation: str) -> None:
        """👍/👎 on one of the bot's answers to this person: the widget's feedback buttons."""
        relation = logic.relates_to(source.get("content") or {})
        target, key = relation.get("event_id"), relation.get("key")
        if not isinstance(target, str) or not isinstance(key, str):
            return
        payload = logic.reaction_payload(key)
        if payload is None or self.state.answer_conversation(target) != conversation:
            return
        messages = await self.rasa.ask(conversation, payload, source["event_id"])
        if self.is_direct(room):  # in a room, thanking for every reaction would be noise
            await self.send(
                room.room_id, target, logic.answer_text(messages), None, conversation, source["event_id"]
            )

    async def may_moderate(self, room_id: str, user_id: str) -> bool:
        """Asked to the homeserver each time: the room's power levels as they are now."""
        state = await self.client.room_get_state(room_id)
        events = getattr(state, "events", None)
        return isinstance(events, list) and logic.can_kick(events, user_id)

    async def send(
        self, room_id: str, reply_to: str, markdown: str, thread: str | None, conversation: str, event_id: str
    ) -> None:
        if not markdown:
            return
        response = await self.client.room_send(
            room_id,
            "m.room.message",
            logic.notice_content(markdown, reply_to, thread),
            tx_id=logic.transaction_id(event_id, 0),
            ignore_unverified_devices=True,
        )
        if isinstance(response, RoomSendResponse):
            self.state.record_answer(response.event_id, room_id, conversation)
        else:
            logger.error("Answer to %s in %s not sent: %s", event_id, room_id, response)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.rasa.close()
        await self.client.close()
        self.state.close()


def as_plain_event(event: Any) -> dict[str, Any] | None:
    """A timeline event as the dict the state keeps, or None when it never needs an answer."""
    source = event.source
    base = {
        "event_id": source.get("event_id") or event.event_id,
        "sender": event.sender,
        "origin_server_ts": source.get("origin_server_ts", 0),
    }
    if isinstance(event, MegolmEvent):  # still encrypted: its keys did not come
        relation = source.get("content", {}).get("m.relates_to")
        content = {"m.relates_to": relation} if isinstance(relation, dict) else {}
        return {
            **base,
            "type": "m.room.encrypted",
            "content": content,
            "undecryptable": True,
            "encrypted": source,  # to try again once its key comes
        }
    if isinstance(event, (RoomMessage, ReactionEvent)) or (
        isinstance(event, UnknownEvent) and event.type == "m.reaction"
    ):
        return {**base, "type": source.get("type", "m.room.message"), "content": source.get("content") or {}}
    return None


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("nio").setLevel(logging.WARNING)  # nio logs every event at INFO
    settings = Settings.from_env(os.environ)
    if settings.problems:
        raise SystemExit("[tchap] configuration incomplète : " + " ; ".join(settings.problems))
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    settings.store_dir.chmod(0o700)  # keys and access token: readable by the bot's account only
    state = State(settings.store_dir / "bienvenue-tchap.db")
    config = AsyncClientConfig(
        encryption_enabled=True,
        store_sync_tokens=False,  # the sync token lives in the state, saved with the sync's events
        max_timeouts=None,  # a homeserver down: retried for ever, the waits growing up to the maximum
        backoff_factor=0.5,
        max_timeout_retry_wait_time=MAX_RETRY_S,
        request_timeout=SYNC_TIMEOUT_MS / 1000 + 30,
    )
    client = AsyncClient(
        settings.homeserver,
        settings.user_id,
        store_path=str(settings.store_dir),
        config=config,
    )
    bot = Bot(settings, client, state, Rasa(settings.rasa_url, settings.channel_token))
    loop = asyncio.get_running_loop()
    runner = asyncio.ensure_future(bot.run())
    for stop in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop, runner.cancel)
    try:
        await runner
    except asyncio.CancelledError:
        logger.info("Stopping.")
    finally:
        await bot.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
