"""A Redis lock store that several Rasa instances can share safely (endpoints.production.yml uses it).

Rasa 3.6's RedisLockStore changes a conversation's lock with separate GET and SET calls. When two instances
issue or release tickets for the same conversation at the same moment, one overwrites the other: two messages
of the conversation are then processed at once (the tracker store keeps only one of them) or a waiting message
fails with LockError. Here every change of a lock is one optimistic Redis transaction (WATCH/MULTI/EXEC),
retried when another instance changed that lock in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

Result = TypeVar("Result")
# A conflict means another instance just changed the lock: retrying succeeds unless the conversation receives
# more simultaneous messages than this, which no person typing does.
MAX_ATTEMPTS = 100


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket issue, expiry and release are atomic across processes."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # Same settings as Rasa's `type: redis` lock store (url, port, db, password, key_prefix, ...).
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def _change(
        self, conversation_id: str, change: Callable[[TicketLock | None], tuple[Result, TicketLock | None]]
    ) -> Result:
        """Applies `change` to the stored lock atomically: it returns a result and the lock to store (None
        deletes it)."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(key)
                    serialised = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(serialised)) if serialised else None
                    result, new_lock = change(lock)
                    pipe.multi()
                    if new_lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new_lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
        raise LockError(f"The lock of conversation '{conversation_id}' kept changing: gave up.")

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[int, TicketLock]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, issue)
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def expire(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, expire)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Releases the ticket; the lock goes away with the last ticket, in the same transaction."""

        def release(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, lock if lock.is_someone_waiting() else None

        self._change(conversation_id, release)
