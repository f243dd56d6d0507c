"""A local stand-in of Mattermost for the channel's tests: the part of API v4 the channel uses, on loopback.

Server side (aiohttp, in a thread of its own), as Mattermost's server code and API reference describe it:
- ``POST /api/v4/posts`` with ``Authorization: Bearer <bot token>``: 201 and the post as JSON (26-character
  ids, ``props.from_bot`` on a bot's posts, action ids filled in); 401 for a missing or bad token; 400 for a
  missing channel, a message over 16,383 characters or a ``root_id`` that is not a root post of the channel;
  403 in a channel the bot is not a member of;
- ``PUT /api/v4/posts/{post_id}/patch`` (same token rules): 200 and the post, its ``message`` and/or ``props``
  replaced by the given ones (fields left out are kept); 403 for another's post and for an unknown one
  (api4/post.go answers a failed lookup with a permission error);
- ``GET /api/v4/posts/{post_id}`` and ``GET /api/v4/users/me`` (same token rules; 404 for an unknown post);
- ``POST /hooks/commands/{id}``, a slash command's ``response_url``: at most 5 uses, 404 when unknown;
- ``fail(status, count, only)`` makes the API answer ``status`` (e.g. 500) to the next ``count`` calls (those
  whose "METHOD /path" starts with ``only``, if given), or to all of them until ``recover()``;
  ``delay(seconds, count)`` makes the next ``count`` calls slow; ``hang(count, only)`` makes them wait for
  ``recover()`` (a client's timeout).
It records every post and every response_url message.

Client side, the requests Mattermost sends to an integration, with their documented fields: outgoing webhooks
(JSON or form-encoded), slash commands (form-encoded) and button clicks (JSON).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from aiohttp import web

MAX_POST_CHARS = 16383
RESPONSE_URL_USES = 5
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(26))


def new_token() -> str:
    return new_id()


def _error(status: int, error_id: str, message: str) -> web.Response:
    # Mattermost's AppError as JSON.
    return web.json_response({"id": error_id, "message": message, "status_code": status}, status=status)


@dataclass
class User:
    username: str
    is_bot: bool = False
    id: str = field(default_factory=new_id)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "is_bot": self.is_bot}


@dataclass
class Channel:
    name: str
    type: str = "O"  # O public, P private, D direct message
    team_id: str = field(default_factory=new_id)
    id: str = field(default_factory=new_id)
    members: set[str] = field(default_factory=set)


@dataclass
class CommandHook:
    channel_id: str
    root_id: str
    user_id: str
    uses: int = 0


class MattermostStandin:
    def __init__(self, team_domain: str = "beta") -> None:
        self.bot_token = new_token()
        self.bot = User("bienvenue", is_bot=True)
        self.team_domain = team_domain
        self.users: dict[str, User] = {self.bot.id: self.bot}
        self.channels: dict[str, Channel] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.api_posts: list[dict[str, Any]] = []  # created through POST /api/v4/posts, in order
        self.command_responses: list[dict[str, Any]] = []  # received on response_urls, in order
        self.api_calls: list[tuple[str, str, int]] = []  # (method, path, status)
        self._hooks: dict[str, CommandHook] = {}
        # (status, remaining count or None, "METHOD /path" prefix of the calls that fail)
        self._failure: tuple[int, int | None, str] | None = None
        self._delays: list[float] = []  # for the next API calls, in order
        # How many of the next API calls (whose "METHOD /path" starts with the prefix) hang until recover().
        self._hangs: tuple[int | None, str] = (0, "")
        self._released: asyncio.Event | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- Life cycle ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    def start(self) -> MattermostStandin:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start_site())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="mattermost-standin", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the Mattermost stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(30)
        self._loop.close()

    async def _start_site(self) -> None:
        app = web.Application()
        app.router.add_post("/api/v4/posts", self._create_post)
        app.router.add_get("/api/v4/posts/{post_id}", self._get_post)
        app.router.add_put("/api/v4/posts/{post_id}/patch", self._patch_post)
        app.router.add_get("/api/v4/users/me", self._me)
        app.router.add_post("/hooks/commands/{hook_id}", self._command_response)
        self._released = asyncio.Event()
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    # --- Failures -----------------------------------------------------------------------------------------

    def fail(self, status: int = 500, count: int | None = None, only: str = "") -> None:
        """The API answers ``status`` to the next ``count`` calls (all if None) whose "METHOD /path" starts
        with ``only``, until ``recover()``."""
        with self._lock:
            self._failure = (status, count, only)

    def hang(self, count: int | None = None, only: str = "") -> None:
        """The next ``count`` API calls (all if None) whose "METHOD /path" starts with ``only`` get no answer
        until ``recover()``."""
        with self._lock:
            self._hangs = (count, only)

    def recover(self) -> None:
        with self._lock:
            self._failure = None
            self._delays.clear()
            self._hangs = (0, "")
        if self._loop is not None and self._released is not None:
            released = self._released
            self._loop.call_soon_threadsafe(released.set)

    def delay(self, seconds: float, count: int = 1) -> None:
        """The next ``count`` API calls wait ``seconds`` before answering (the others are not held up)."""
        with self._lock:
            self._delays.extend([seconds] * count)

    async def _maybe_slow(self, request: web.Request) -> None:
        with self._lock:
            seconds = self._delays.pop(0) if self._delays else 0
            count, only = self._hangs
            hangs = f"{request.method} {request.path}".startswith(only) and (count is None or count > 0)
            if hangs and count is not None:
                self._hangs = (count - 1, only)
            if hangs and self._released is not None and self._released.is_set():
                self._released = asyncio.Event()
            released = self._released
        if hangs and released is not None:
            await released.wait()
        await asyncio.sleep(seconds)

    def _injected_failure(self, request: web.Request) -> int | None:
        with self._lock:
            if self._failure is None:
                return None
            status, count, only = self._failure
            if not f"{request.method} {request.path}".startswith(only):
                return None
            if count is not None:
                self._failure = (status, count - 1, only) if count > 1 else None
            return status

    # --- API v4 -------------------------------------------------------------------------------------------

    def _record(self, request: web.Request, status: int) -> None:
        with self._lock:
            self.api_calls.append((request.method, request.path, status))

    def _refusal(self, request: web.Request) -> web.Response | None:
        """401 without the bot's token, or the injected failure."""
        if request.headers.get("Authorization") != f"Bearer {self.bot_token}":
            return _error(401, "api.context.session_expired.app_error", "Invalid or expired session.")
        status = self._injected_failure(request)
        if status is not None:
            return _error(status, "app.standin.injected_failure", "Injected failure.")
        return None

    async def _create_post(self, request: web.Request) -> web.Response:
        await self._maybe_slow(request)
        reply = self._refusal(request)
        if reply is None:
            reply = self._save_bot_post(await request.read())
        self._record(request, reply.status)
        return reply

    def _save_bot_post(self, body: bytes) -> web.Response:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return _error(400, "api.context.invalid_body_param.app_error", "Invalid or missing post in body.")
        with self._lock:
            channel = self.channels.get(data.get("channel_id", ""))
            if channel is None:
                return _error(400, "api.context.invalid_param.app_error", "Invalid channel_id parameter.")
            if self.bot.id not in channel.members:
                return _error(403, "api.context.permissions.app_error", "You do not have the permissions.")
            message = data.get("message", "")
            if not isinstance(message, str) or len(message) > MAX_POST_CHARS:
                return _error(400, "model.post.is_valid.msg.app_error", "Invalid message.")
            root_id = data.get("root_id", "")
            root = self.posts.get(root_id) if root_id else None
            if root_id and (root is None or root["root_id"] or root["channel_id"] != channel.id):
                return _error(400, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.")
            props = dict(data.get("props") or {})
            for attachment in props.get("attachments") or []:
                for action in attachment.get("actions") or []:
                    action.setdefault("id", new_id())
            post = self._store_post(self.bot, channel, message, root_id, props)
            self.api_posts.append(post)
        return web.json_response(post, status=201)

    async def _patch_post(self, request: web.Request) -> web.Response:
        await self._maybe_slow(request)
        reply = self._refusal(request)
        if reply is None:
            reply = self._patch_bot_post(request.match_info["post_id"], await request.read())
        self._record(request, reply.status)
        return reply

    def _patch_bot_post(self, post_id: str, body: bytes) -> web.Response:
        try:
            patch = json.loads(body)
        except ValueError:
            patch = None
        if not isinstance(patch, dict):
            return _error(400, "api.context.invalid_body_param.app_error", "Invalid or missing post in body.")
        with self._lock:
            post = self.posts.get(post_id)
            if post is None or post["user_id"] != self.bot.id:
                return _error(403, "api.context.permissions.app_error", "You do not have the permissions.")
            if isinstance(patch.get("message"), str):
                post["message"] = patch["message"]
            if isinstance(patch.get("props"), dict):
                props = dict(patch["props"])
                for attachment in props.get("attachments") or []:
                    for action in attachment.get("actions") or []:
                        action.setdefault("id", new_id())
                post["props"] = props
            post["update_at"] = int(time.time() * 1000)
        return web.json_response(post)

    async def _get_post(self, request: web.Request) -> web.Response:
        await self._maybe_slow(request)
        reply = self._refusal(request)
        if reply is None:
            with self._lock:
                post = self.posts.get(request.match_info["post_id"])
            if post is None:
                reply = _error(404, "app.post.get.app_error", "Unable to get the post.")
            else:
                reply = web.json_response(post)
        self._record(request, reply.status)
        return reply

    async def _me(self, request: web.Request) -> web.Response:
        await self._maybe_slow(request)
        reply = self._refusal(request)
        if reply is None:
            reply = web.json_response(self.bot.as_json())
        self._record(request, reply.status)
        return reply

    async def _command_response(self, request: web.Request) -> web.Response:
        with self._lock:
            hook = self._hooks.get(request.match_info["hook_id"])
            if hook is None:
                return _error(404, "app.command_webhook.get.missing", "Unable to find the webhook.")
            if hook.uses >= RESPONSE_URL_USES:
                return _error(400, "app.command_webhook.try_use.invalid", "Invalid webhook.")
            hook.uses += 1
        try:
            data = json.loads(await request.read())
        except ValueError:
            return _error(400, "app.command_webhook.handle_command_webhook.parse", "Unable to parse.")
        with self._lock:
            self.command_responses.append(
                {"channel_id": hook.channel_id, "root_id": hook.root_id, "user_id": hook.user_id, **data}
            )
        return web.Response(text="ok")

    # --- Test data ----------------------------------------------------------------------------------------

    def add_user(self, username: str, is_bot: bool = False) -> User:
        user = User(username, is_bot=is_bot)
        with self._lock:
            self.users[user.id] = user
        return user

    def add_channel(self, name: str, type: str = "O", bot_member: bool = True) -> Channel:
        channel = Channel(name, type=type)
        if bot_member:
            channel.members.add(self.bot.id)
        with self._lock:
            self.channels[channel.id] = channel
        return channel

    def _store_post(
        self, user: User, channel: Channel, message: str, root_id: str, props: dict[str, Any]
    ) -> dict[str, Any]:
        if user.is_bot:
            props["from_bot"] = "true"
        now = int(time.time() * 1000)
        post = {
            "id": new_id(),
            "create_at": now,
            "update_at": now,
            "user_id": user.id,
            "channel_id": channel.id,
            "root_id": root_id,
            "message": message,
            "type": "",
            "props": props,
        }
        self.posts[post["id"]] = post
        return post

    def user_post(
        self, user: User, channel: Channel, text: str, root_id: str = "", props: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A post typed in Mattermost (or made by an integration, with its props)."""
        with self._lock:
            return self._store_post(user, channel, text, root_id, dict(props or {}))

    def bot_answers(self, root_id: str) -> list[dict[str, Any]]:
        """The bot's posts in a thread, in order."""
        with self._lock:
            return [post for post in self.api_posts if post["root_id"] == root_id]

    def responses_for(self, user: User) -> list[dict[str, Any]]:
        with self._lock:
            return [message for message in self.command_responses if message["user_id"] == user.id]

    # --- Requests to the integration ----------------------------------------------------------------------

    def webhook_payload(self, post: dict[str, Any], token: str, trigger_word: str = "") -> dict[str, Any]:
        """An outgoing webhook's fields for a post (model.OutgoingWebhookPayload)."""
        channel = self.channels[post["channel_id"]]
        return {
            "token": token,
            "team_id": channel.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel.id,
            "channel_name": channel.name,
            "timestamp": post["create_at"],
            "user_id": post["user_id"],
            "user_name": self.users[post["user_id"]].username,
            "post_id": post["id"],
            "text": post["message"],
            "trigger_word": trigger_word,
            "file_ids": "",
        }

    def slash_payload(
        self,
        user: User,
        channel: Channel,
        text: str,
        token: str,
        root_id: str = "",
        command: str = "/bienvenue",
    ) -> dict[str, Any]:
        """A slash command's form fields, with a fresh response_url for it."""
        hook_id = new_id()
        with self._lock:
            self._hooks[hook_id] = CommandHook(channel_id=channel.id, root_id=root_id, user_id=user.id)
        return {
            "token": token,
            "team_id": channel.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel.id,
            "channel_name": channel.name,
            "user_id": user.id,
            "user_name": user.username,
            "command": command,
            "text": text,
            "response_url": f"{self.url}/hooks/commands/{hook_id}",
            "trigger_id": new_id(),
            "root_id": root_id,
        }

    def click_payload(self, post: dict[str, Any], action: dict[str, Any], user: User) -> dict[str, Any]:
        """A button click's JSON fields (model.PostActionIntegrationRequest)."""
        channel = self.channels[post["channel_id"]]
        return {
            "user_id": user.id,
            "user_name": user.username,
            "channel_id": channel.id,
            "channel_name": channel.name,
            "team_id": channel.team_id,
            "team_domain": self.team_domain,
            "post_id": post["id"],
            "trigger_id": new_id(),
            "type": action.get("type", "button"),
            "data_source": "",
            "context": action["integration"]["context"],
        }

    @staticmethod
    def send(url: str, fields: dict[str, Any], content_type: str = JSON) -> requests.Response:
        """POSTs the fields as Mattermost does: JSON or form-encoded (form values are text)."""
        if content_type == FORM:
            # The form encoding gives the timestamp in seconds, JSON in milliseconds.
            form = {name: value // 1000 if name == "timestamp" else value for name, value in fields.items()}
            body = urlencode(form).encode()
        else:
            body = json.dumps(fields).encode()
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        return requests.post(url, data=body, headers=headers, timeout=60)


def actions_of(post: dict[str, Any]) -> list[dict[str, Any]]:
    return [action for attachment in post["props"].get("attachments", []) for action in attachment["actions"]]


@contextmanager
def running_standin() -> Iterator[MattermostStandin]:
    standin = MattermostStandin().start()
    try:
        yield standin
    finally:
        standin.stop()


def wait_until(condition: Callable[[], Any], timeout_s: float = 120, what: str = "the condition") -> Any:
    """Polls until ``condition()`` is truthy and returns it; the timeout only guards against a hang."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout_s} s")
        time.sleep(0.1)
