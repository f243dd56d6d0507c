"""The shared lock store lets only one process at a time handle a conversation, whatever the interleaving.

Two processes (as two Rasa instances would) take the locks of the same few conversations many times at
once, against a real Redis. Rasa's own RedisLockStore fails this test: its read-then-write tickets let both
processes in together, or lose a ticket and raise LockError.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import time

import redis
from rasa.utils.endpoints import EndpointConfig

from bienvenue_lock_store import AtomicRedisLockStore
from tests.integration import stores

CONVERSATIONS = 4
ROUNDS = 40
PROCESSES = 2


def hammer(port: int, name: str) -> dict[str, int]:
    """Takes every conversation's lock ROUNDS times, all conversations at once; counts what went wrong."""
    from rasa.core.lock_store import RedisLockStore
    store = RedisLockStore(host="127.0.0.1", port=port, db=1, key_prefix="test")
    marks = redis.Redis(host="127.0.0.1", port=port, db=2)
    problems = {"overlaps": 0, "lock_errors": 0}

    async def take(conversation: str) -> None:
        try:
            async with store.lock(conversation, wait_time_in_seconds=0.01):
                # Whoever holds the lock marks the conversation busy: finding a mark means two holders.
                if not marks.set(f"busy:{conversation}", name, nx=True):
                    problems["overlaps"] += 1
                await asyncio.sleep(0.002)
                marks.delete(f"busy:{conversation}")
        except Exception:
            problems["lock_errors"] += 1

    async def run() -> None:
        for _ in range(ROUNDS):
            await asyncio.gather(*(take(f"conversation-{number}") for number in range(CONVERSATIONS)))

    # Start together: each process waits until all have arrived (bounded wait).
    marks.incr("ready")
    for _ in range(3000):
        if int(marks.get("ready") or 0) >= PROCESSES:
            break
        time.sleep(0.01)
    asyncio.run(run())
    return problems


def test_two_processes_never_hold_the_same_conversation_lock_together() -> None:
    with stores.redis_server("redis-lock-store") as server:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=PROCESSES, mp_context=context) as executor:
            results = list(
                executor.map(hammer, [server.address[1]] * PROCESSES, [f"p{n}" for n in range(PROCESSES)])
            )
    assert results == [{"overlaps": 0, "lock_errors": 0}] * PROCESSES
