"""Rasa's SQL tracker store, made cheap per message and independent of the conversation's length.

Rasa's SQLTrackerStore reloads and replays every event of the current session on each message, counts them
again to find the new ones on save, and hands the whole history to the policies, which replay it once more
per prediction: the cost of a message grows with the length of the conversation (the web widget and
Mattermost keep one conversation per person for months). This subclass keeps, per recent conversation:

- the id of the last event it knows is stored (checked against the database before every use, so several
  instances sharing one PostgreSQL stay correct: what another instance wrote is read and applied first);
- the last turns of the session (a bounded window) and the dialogue state before them (slots, active loop,
  pause), from which it rebuilds the tracker it hands out: the state's slots as `SlotSet` events, then the
  window. Conversations shorter than the window are handed out exactly as Rasa's store would.

On save it appends only the events added since it handed the tracker out: the same rows as Rasa's store.
Rows are ordered by id, as Rasa reads them; for that, writes to one conversation must not overlap, which the
lock store guarantees (one Redis lock per conversation in production).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

# Conversations kept in memory (least recently used dropped first), each at most WINDOW_MAX_TURNS turns.
DEFAULT_CACHE_SIZE = 1000
# The policies look back a few turns only (MemoizationPolicy max_history 3, short rules): the window handed
# out keeps WINDOW_MIN_TURNS to WINDOW_MAX_TURNS user turns, trimmed in batches (amortised constant cost).
WINDOW_MIN_TURNS = 10
WINDOW_MAX_TURNS = 20
# Where a tracker handed out by this store records what was stored when it left (events, last row id).
_MARK = "_caching_store_mark"


@dataclass
class _Conversation:
    """What the cache knows of one conversation's current session."""

    # Ids of the session's first row read and of the last row known to be stored.
    first_id: int
    last_id: int
    # The dialogue state before `window` (its events are dropped: only slots, loop and pause matter).
    base: DialogueStateTracker
    window: list[Event] = field(default_factory=list)

    def append(self, events: Iterable[Event]) -> None:
        self.window.extend(events)
        starts = [index for index, event in enumerate(self.window) if isinstance(event, UserUttered)]
        if len(starts) > WINDOW_MAX_TURNS:
            cut = starts[-WINDOW_MIN_TURNS]
            # Keep the action_listen before the turn: the first state the policies see is then the same.
            previous = self.window[cut - 1]
            if isinstance(previous, ActionExecuted) and previous.action_name == ACTION_LISTEN_NAME:
                cut -= 1
            for event in self.window[:cut]:
                self.base.update(event)
            del self.window[:cut]

    def prefix(self) -> list[Event]:
        """Events putting a fresh tracker in the state `base` is in (none when the window is the session)."""
        if not self.base.events and not self.base.is_paused():
            state_events: list[Event] = []
        else:
            state_events = [
                SlotSet(slot.name, slot.value)
                for slot in self.base.slots.values()
                if slot.value != slot.initial_value
            ]
            if self.base.active_loop_name:
                state_events.append(ActiveLoop(self.base.active_loop_name))
            if self.base.is_paused():
                state_events.append(ConversationPaused())
        return state_events


class CachingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with a bounded in-memory cache of recent conversations and append-only saves."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[str, _Conversation] = OrderedDict()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        conversation = self._fresh_conversation(sender_id)
        if conversation is None:
            return None
        tracker = DialogueStateTracker.from_events(
            sender_id, conversation.prefix() + conversation.window, self.domain.slots
        )
        setattr(tracker, _MARK, (len(tracker.events), conversation.last_id))
        return tracker

    def _fresh_conversation(self, sender_id: str) -> _Conversation | None:
        """The cached conversation brought up to date with what is stored (by any instance), or None."""
        conversation = self._cache.get(sender_id)
        with self.session_scope() as session:
            if conversation is not None:
                # The rows stored since, and the session's first row: gone means the conversation was deleted
                # (`make purge`), and nothing of it may be used again.
                rows = (
                    session.query(self.SQLEvent.id, self.SQLEvent.type_name, self.SQLEvent.data)
                    .filter(
                        self.SQLEvent.sender_id == sender_id,
                        sa.or_(
                            self.SQLEvent.id > conversation.last_id, self.SQLEvent.id == conversation.first_id
                        ),
                    )
                    .order_by(self.SQLEvent.id)
                    .all()
                )
                new_rows = [row for row in rows if row.id > conversation.last_id]
                still_stored = bool(rows) and rows[0].id == conversation.first_id
                # A new session changes which events Rasa's store would read: read them as it does.
                if still_stored and not any(row.type_name == SessionStarted.type_name for row in new_rows):
                    self._apply_rows(conversation, new_rows)
                    self._cache.move_to_end(sender_id)
                    return conversation
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        if not rows:
            self._cache.pop(sender_id, None)
            return None
        conversation = _Conversation(first_id=rows[0].id, last_id=0, base=self._state_tracker(sender_id))
        self._apply_rows(conversation, rows)
        self._remember(sender_id, conversation)
        return conversation

    def _state_tracker(self, sender_id: str) -> DialogueStateTracker:
        # Keeps the state of every event applied to it, but not the events themselves.
        return DialogueStateTracker(sender_id, self.domain.slots, max_event_history=1)

    @staticmethod
    def _apply_rows(conversation: _Conversation, rows: list[Any]) -> None:
        if rows:
            conversation.append(deserialise_events([json.loads(row.data) for row in rows]))
            conversation.last_id = rows[-1].id

    def _remember(self, sender_id: str, conversation: _Conversation) -> None:
        self._cache[sender_id] = conversation
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the events added since this store handed the tracker out (Rasa's rows, Rasa's columns)."""
        await self.stream_events(tracker)
        mark = getattr(tracker, _MARK, None)
        with self.session_scope() as session:
            if mark is None:
                # Not handed out by this store (a new conversation): Rasa's own way of finding the new events.
                events = list(super()._additional_events(session, tracker))
            else:
                events = list(tracker.events)[mark[0] :]
            rows = [self._row(tracker.sender_id, event) for event in events]
            session.add_all(rows)
            session.flush()
            last_id = rows[-1].id if rows else None
            session.commit()
        self._after_save(tracker, mark, events, last_id)
        logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")

    def _row(self, sender_id: str, event: Event) -> Any:
        # The columns SQLTrackerStore.save writes, computed the same way.
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _after_save(
        self,
        tracker: DialogueStateTracker,
        mark: tuple[int, int] | None,
        events: list[Event],
        last_id: int | None,
    ) -> None:
        sender_id = tracker.sender_id
        conversation = self._cache.get(sender_id)
        if last_id is None:
            if mark is not None:
                setattr(tracker, _MARK, (len(tracker.events), mark[1]))
            return
        resets = any(isinstance(event, (SessionStarted, Restarted)) for event in events)
        if mark is None or conversation is None or conversation.last_id != mark[1] or resets:
            # Anything unusual: forget, and read it back from the database next time.
            self._cache.pop(sender_id, None)
        else:
            conversation.append(events)
            conversation.last_id = last_id
        # The same tracker may be saved again (Rasa does so after running some actions).
        setattr(tracker, _MARK, (len(tracker.events), last_id))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        mark = getattr(tracker, _MARK, None)
        if mark is None:
            return super()._additional_events(session, tracker)
        return iter(list(tracker.events)[mark[0] :])
