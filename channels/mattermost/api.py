"""The few Mattermost API v4 calls the channel makes, with aiohttp: 2xx is success; 429, 5xx, network errors
and timeouts are retried after each wait of the schedule (MATTERMOST_RETRY_DELAYS_S), then raised."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from channels.mattermost.settings import DEFAULT_RETRY_DELAYS_S

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 10.0


class MattermostError(Exception):
    def __init__(self, what: str, status: int | None, detail: str) -> None:
        super().__init__(f"{what}: {status or 'no answer'} {detail}")
        self.status = status


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class MattermostApi:
    def __init__(
        self,
        api_url: str,
        bot_token: str,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS_S,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.api_url = api_url
        self._bot_token = bot_token
        self.retry_delays = tuple(retry_delays)
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def create_post(self, post: Mapping[str, Any]) -> Any:
        return await self._call("POST", f"{self.api_url}/posts", "POST /posts", post)

    async def patch_post(self, post_id: str, patch: Mapping[str, Any]) -> Any:
        what = f"PUT /posts/{post_id}/patch"
        return await self._call("PUT", f"{self.api_url}/posts/{post_id}/patch", what, patch)

    async def get_post(self, post_id: str) -> Any:
        return await self._call("GET", f"{self.api_url}/posts/{post_id}", f"GET /posts/{post_id}")

    async def me(self) -> Any:
        return await self._call("GET", f"{self.api_url}/users/me", "GET /users/me")

    async def respond(self, response_url: str, payload: Mapping[str, Any]) -> Any:
        # The response_url is itself the credential: no bot token, and it is kept out of the logs.
        return await self._call("POST", response_url, "POST response_url", payload, authenticated=False)

    async def _call(
        self,
        method: str,
        url: str,
        what: str,
        payload: Mapping[str, Any] | None = None,
        authenticated: bool = True,
    ) -> Any:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {"Authorization": f"Bearer {self._bot_token}"} if authenticated else {}
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._session.request(method, url, json=payload, headers=headers) as reply:
                    body = await reply.text()
                if 200 <= reply.status < 300:
                    return _json_or_none(body)
                error = MattermostError(what, reply.status, body[:300])
                if not _retryable(reply.status):
                    raise error
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error = MattermostError(what, None, repr(exc))
            if attempt > len(self.retry_delays):
                raise error
            delay = self.retry_delays[attempt - 1]
            logger.warning("Mattermost %s failed (try %d): %s; retry in %s s.", what, attempt, error, delay)
            await asyncio.sleep(delay)


def _json_or_none(body: str) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None
