"""Load generator: N conversations at once, each sending its messages one after the other (REST channel).

The number of messages is fixed in advance (bounded run); every request has a timeout, and failures are
counted instead of retried.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import numpy as np
import requests

REQUEST_TIMEOUT_S = 120


@dataclass
class LevelResult:
    """What one load level measured: latencies of the successful requests, failures, wall time, upstreams."""

    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0
    upstreams: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict:
        latencies = np.array(self.latencies_ms) if self.latencies_ms else np.array([np.nan])
        p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
        return {
            "concurrency": self.concurrency,
            "messages": len(self.latencies_ms),
            "errors": self.errors,
            "p50_ms": round(float(p50), 1),
            "p95_ms": round(float(p95), 1),
            "p99_ms": round(float(p99), 1),
            "mean_ms": round(float(np.mean(latencies)), 1),
            "throughput_msg_s": round(len(self.latencies_ms) / self.wall_s, 2) if self.wall_s else 0.0,
            "wall_s": round(self.wall_s, 2),
            "upstreams": dict(self.upstreams),
            "latencies_ms": [round(value, 1) for value in self.latencies_ms],
        }


def conversation_messages(pool: Sequence[str], conversation: int, turns: int) -> list[str]:
    """The messages of one conversation: consecutive texts of the pool, starting at a different place each."""
    start = conversation * turns
    return [pool[(start + turn) % len(pool)] for turn in range(turns)]


async def _run_level(url: str, pool: Sequence[str], concurrency: int, turns: int, prefix: str) -> LevelResult:
    result = LevelResult(concurrency=concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def conversation(index: int) -> None:
            for text in conversation_messages(pool, index, turns):
                started = time.perf_counter()
                try:
                    async with session.post(
                        url, json={"sender": f"{prefix}-{index}", "message": text}
                    ) as reply:
                        await reply.read()
                        ok = reply.status == 200
                        result.upstreams[reply.headers.get("X-Upstream", "direct")] += 1
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok = False
                if ok:
                    result.latencies_ms.append((time.perf_counter() - started) * 1000)
                else:
                    result.errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(conversation(index) for index in range(concurrency)))
        result.wall_s = time.perf_counter() - started
    return result


def run_level(base_url: str, pool: Sequence[str], concurrency: int, turns: int, prefix: str) -> LevelResult:
    """`concurrency` conversations of `turns` messages each, all at once, on `base_url`'s REST channel."""
    url = f"{base_url.rstrip('/')}/webhooks/rest/webhook"
    return asyncio.run(_run_level(url, pool, concurrency, turns, prefix))


def send(session: requests.Session, base_url: str, sender: str, text: str) -> float:
    """One message on the REST channel, waiting for the answer: its latency in ms (fails on an error)."""
    started = time.perf_counter()
    reply = session.post(
        f"{base_url.rstrip('/')}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=REQUEST_TIMEOUT_S,
    )
    reply.raise_for_status()
    return (time.perf_counter() - started) * 1000
