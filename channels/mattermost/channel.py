"""The Mattermost input channel: routes, then for each accepted question a background job that checks the
post, runs the bot's turn through the guard and posts the answers.

A user's questions go through their turns in order, and their answers are posted in the same order, but no
lock is held while Mattermost is retried: a user's next turn runs while an earlier answer waits for
Mattermost. Questions accepted and not answered yet are bounded per user and in total (see ``Settings``):
beyond, a new question is not accepted — the request is answered at once with BUSY_ANSWER, which
Mattermost itself shows, and a warning is logged — so an outage cannot pile up answers without end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard
from channels.body import RequestError
from channels.mattermost.api import MattermostApi, MattermostError
from channels.mattermost.incoming import Kind, Question, parse_request, slash_ack
from channels.mattermost.posting import (
    MattermostOutput,
    button_props,
    choices_of,
    is_automated,
    slash_responses,
    thread_posts,
    thread_root,
    typed_choices,
)
from channels.mattermost.settings import ENV_CALLBACK_URL, Settings

logger = logging.getLogger(__name__)

# On shutdown, answers still being computed or posted get this long to finish.
DRAIN_TIMEOUT_S = 30.0
NOT_CONFIGURED = "Le canal Mattermost n'est pas configuré : {problems}."
BUSY_ANSWER = (
    "Trop de questions attendent encore leur réponse : la vôtre n'a pas été prise en compte. "
    "Réessayez dans quelques minutes."
)

# Posts the bot's messages of one turn where they belong.
Deliver = Callable[[list[dict[str, Any]]], Awaitable[None]]


class _Place:
    """A question's place in its user's queue: its turn after the previous question's turn, its delivery
    after the previous question's delivery."""

    def __init__(self, previous: _Place | None) -> None:
        self._previous = previous
        self._turn_done = asyncio.Event()
        self._delivered = asyncio.Event()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._previous is not None:
            await self._previous._turn_done.wait()
        try:
            yield
        finally:
            self._turn_done.set()

    @asynccontextmanager
    async def delivery(self) -> AsyncIterator[None]:
        if self._previous is not None:
            await self._previous._delivered.wait()
        try:
            yield
        finally:
            self._delivered.set()

    def close(self) -> None:
        self._turn_done.set()
        self._delivered.set()
        self._previous = None


class InOrder:
    """Per-key queues of places, forgotten when their last place is closed."""

    def __init__(self) -> None:
        self._last: dict[str, _Place] = {}

    def enter(self, key: str) -> _Place:
        place = _Place(self._last.get(key))
        self._last[key] = place
        return place

    def leave(self, key: str, place: _Place) -> None:
        place.close()
        if self._last.get(key) is place:
            del self._last[key]


def busy_reply(question: Question) -> dict[str, str]:
    """The immediate answer to a question not accepted: Mattermost shows it without any API call."""
    if question.kind is Kind.SLASH:
        return {"response_type": "ephemeral", "text": BUSY_ANSWER}
    if question.kind is Kind.CLICK:
        return {"ephemeral_text": BUSY_ANSWER}
    return {"text": BUSY_ANSWER, "response_type": "comment"}


class MattermostInput(InputChannel):
    """``channels.mattermost.MattermostInput`` in credentials.yml, with no keys: see ``Settings``."""

    @classmethod
    def name(cls) -> str:
        return "mattermost"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if credentials:
            logger.warning(
                "Mattermost: the keys %s of credentials.yml are ignored; the channel reads MATTERMOST_* "
                "environment variables only.",
                sorted(credentials),
            )
        return cls(Settings.from_env(os.environ))

    def __init__(
        self, settings: Settings, api: MattermostApi | None = None, limits: guard.Limits | None = None
    ) -> None:
        self.settings = settings
        self.api = api or MattermostApi(settings.api_url, settings.bot_token, settings.retry_delays_s)
        self.guard = guard.Guard(self.name(), limits) if limits else guard.Guard.from_env(self.name())
        self._bot_user_id = settings.bot_user_id
        self._identity_lock = asyncio.Lock()
        self._order = InOrder()
        self._jobs: set[asyncio.Task] = set()
        self._pending_per_user: dict[str, int] = {}
        if not settings.configured:
            logger.warning("Mattermost channel not configured, its routes answer 503: %s", settings.problems)
        elif not settings.callback_url:
            logger.warning(
                "Mattermost: %s is not set, so no buttons: their choices are sent as text to type. Set it to "
                "this server's public URL of /webhooks/mattermost/webhook to get buttons.",
                ENV_CALLBACK_URL,
            )

    @property
    def pending(self) -> int:
        """Questions accepted whose answers are not posted yet."""
        return len(self._jobs)

    def not_configured(self) -> HTTPResponse:
        message = NOT_CONFIGURED.format(problems="; ".join(self.settings.problems))
        return RequestError(503, "not_configured", message).response()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("mattermost_webhook")
        bot = self.guard.connect(on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if not self.settings.configured:
                return self.not_configured()
            return response.json({"status": "ok", "pending": self.pending})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return self.not_configured()
            try:
                question = parse_request(
                    request.headers.get("content-type"), request.body, self.settings, now=time.time()
                )
            except RequestError as refusal:
                logger.warning("Mattermost: %s refused with %d: %s", request.ip, refusal.status, refusal)
                return refusal.response()
            if question is None or question.user_id == self._bot_user_id:
                return response.json({})
            if not self.admit(question):
                return response.json(busy_reply(question))
            self.start(question, self.answer(question, bot))
            return response.json(slash_ack(question) if question.kind is Kind.SLASH else {})

        @webhook.listener("before_server_stop")
        async def drain(*_: Any) -> None:
            if self._jobs:
                await asyncio.wait(set(self._jobs), timeout=DRAIN_TIMEOUT_S)

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.api.close()

        return webhook

    def admit(self, question: Question) -> bool:
        """Whether there is room for one more question of this user (see the module's docstring)."""
        waiting = self._pending_per_user.get(question.user_id, 0)
        if len(self._jobs) >= self.settings.max_pending or waiting >= self.settings.max_pending_per_user:
            logger.warning(
                "Mattermost: %s of user %s in channel %s not accepted: %d question(s) of this user and %d in "
                "all wait for their answers (limits %d and %d).",
                question.kind.value,
                question.user_id,
                question.channel_id,
                waiting,
                len(self._jobs),
                self.settings.max_pending_per_user,
                self.settings.max_pending,
            )
            return False
        return True

    def start(self, question: Question, job: Coroutine[Any, Any, None]) -> None:
        user_id = question.user_id
        task = asyncio.ensure_future(job)
        self._jobs.add(task)  # also keeps the task referenced until it ends
        self._pending_per_user[user_id] = self._pending_per_user.get(user_id, 0) + 1

        def done(_: asyncio.Future) -> None:
            self._jobs.discard(task)
            left = self._pending_per_user.pop(user_id) - 1
            if left:
                self._pending_per_user[user_id] = left

        task.add_done_callback(done)

    async def answer(self, question: Question, bot: guard.GuardedBot) -> None:
        """Runs the bot's turn for the question and posts its answers; failures are logged, never raised."""
        place = self._order.enter(question.user_id)  # taken before any wait: the order of the questions
        try:
            deliver = await self._destination(question)
            if deliver is None:
                return
            output = MattermostOutput()
            async with place.turn():
                await bot.handle(question.text, question.user_id, output, metadata=question.metadata)
            async with place.delivery():
                await deliver(output.messages)
        except Exception:
            logger.exception(
                "Mattermost: answering %s of user %s in channel %s failed.",
                question.kind.value,
                question.user_id,
                question.channel_id,
            )
        finally:
            self._order.leave(question.user_id, place)

    async def _destination(self, question: Question) -> Deliver | None:
        """Where the question's answers go; None when it must not be answered."""
        if question.kind is Kind.SLASH:
            return self._deliver_to_response_url(question)
        if question.kind is Kind.CLICK:
            return self._deliver_to_thread(question, question.root_id)
        root_id = await self._thread_of(question)
        return None if root_id is None else self._deliver_to_thread(question, root_id)

    async def _bot_id(self) -> str:
        async with self._identity_lock:  # one GET /users/me for a burst of first questions
            if not self._bot_user_id:
                try:
                    me = await self.api.me()
                except MattermostError as error:
                    logger.error("Mattermost: cannot learn the bot's own user id: %s", error)
                    return ""
                if isinstance(me, dict) and isinstance(me.get("id"), str):
                    self._bot_user_id = me["id"]
                else:
                    logger.error("Mattermost: GET /users/me gave no user id.")
        return self._bot_user_id

    async def _thread_of(self, question: Question) -> str | None:
        """The thread to answer a webhook's post in, or None when the post must not be answered: by the bot,
        another bot or an integration, or when that cannot be checked (fail closed, never risk a loop)."""
        post_id = question.post_id
        where = f"post {post_id} of user {question.user_id} in channel {question.channel_id}"
        bot_id = await self._bot_id()
        if not bot_id:
            logger.error("Mattermost: %s not answered: without the bot's own id, it could be its own.", where)
            return None
        if question.user_id == bot_id:
            return None
        try:
            post = await self.api.get_post(post_id)
        except MattermostError as error:
            logger.error("Mattermost: %s not answered: cannot read it to check its author: %s", where, error)
            return None
        if not isinstance(post, dict):
            logger.error("Mattermost: %s not answered: its lookup gave no post.", where)
            return None
        if is_automated(post) or post.get("user_id") == bot_id:
            logger.info("Mattermost: %s is by a bot or an integration: not answered.", where)
            return None
        return thread_root(post, post_id)

    def _deliver_to_thread(self, question: Question, root_id: str) -> Deliver:
        async def deliver(messages: list[dict[str, Any]]) -> None:
            typed_prefix = None if self.settings.callback_url else question.trigger_word
            if typed_prefix is not None and any(choices_of(message) for message in messages):
                logger.info("Mattermost: choices sent as text: %s is not set.", ENV_CALLBACK_URL)
            planned = thread_posts(messages, question.channel_id, root_id, typed_prefix)
            for index, post in enumerate(planned):
                created = await self._create_post(question, post.post, [p.post for p in planned[index:]])
                if created is None:
                    return
                if post.choices:
                    await self._attach_buttons(question, post.post, created, post.choices)

        return deliver

    async def _create_post(
        self, question: Question, post: dict[str, Any], remaining: Sequence[dict[str, Any]]
    ) -> Mapping[str, Any] | None:
        """The created post (empty if Mattermost's answer was unreadable); None (logged) when it and the
        ``remaining`` posts after it cannot be posted."""
        try:
            return _as_post(await self.api.create_post(post))
        except MattermostError as error:
            if error.status != 400 or not post["root_id"]:
                self._log_lost(question, len(remaining), error)
                return None
            # The thread is gone or the root was a guess: the answers go to the channel instead.
            logger.warning(
                "Mattermost: cannot answer in thread %s (%s); posting in the channel.", post["root_id"], error
            )
            for later in remaining:
                later["root_id"] = ""
        try:
            return _as_post(await self.api.create_post(post))
        except MattermostError as second_error:
            self._log_lost(question, len(remaining), second_error)
            return None

    async def _attach_buttons(
        self,
        question: Question,
        post: Mapping[str, Any],
        created: Mapping[str, Any],
        choices: Sequence[Mapping[str, str]],
    ) -> None:
        """Puts the choices as buttons on the post just created, signed for its id; if that fails, the
        choices are posted as text instead (logged)."""
        expires = int(time.time() + self.settings.button_ttl_s)
        try:
            if not all(isinstance(created.get(key), str) for key in ("id", "channel_id", "root_id")):
                raise MattermostError("POST /posts", None, "the created post has no id")
            settings = self.settings
            props = button_props(
                choices, settings.callback_url, settings.button_secret, created, question.user_id, expires
            )
            await self.api.patch_post(created["id"], {"props": props})
        except MattermostError as error:
            logger.error("Mattermost: cannot add buttons to a post (%s); its choices go as text.", error)
            text = typed_choices([choice["title"] for choice in choices], question.trigger_word)
            await self._create_post(question, {**post, "message": text}, [])

    def _deliver_to_response_url(self, question: Question) -> Deliver:
        async def deliver(messages: list[dict[str, Any]]) -> None:
            responses = slash_responses(messages, question.command)
            for index, payload in enumerate(responses):
                try:
                    await self.api.respond(question.response_url, payload)
                except MattermostError as error:
                    self._log_lost(question, len(responses) - index, error)
                    return

        return deliver

    def _log_lost(self, question: Question, count: int, error: MattermostError) -> None:
        logger.error(
            "Mattermost: %d answer(s) to the %s of user %s in channel %s could not be posted: %s",
            count,
            question.kind.value,
            question.user_id,
            question.channel_id,
            error,
        )


def _as_post(created: Any) -> Mapping[str, Any]:
    return created if isinstance(created, dict) else {}
