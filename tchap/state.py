"""What the Tchap client remembers across restarts, in one SQLite file of its store directory.

- the login (access token and device id: the same device, so people's clients keep trusting its keys);
- the sync token, saved in the same transaction as the events of that sync, so that nothing received is
  lost and nothing is fetched twice;
- the events to answer and whether they were answered: an event is answered once, even when the client
  stops half-way (the pending ones are taken up again at start-up);
- the bot's own answers (to recognise replies and reactions to them) and the choices offered last in each
  conversation (the next "1" or "2" picks one).

Decrypted questions stay on disk only until they are answered.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tchap.logic import Choice

# Done events and answers older than this are forgotten: a retried sync never goes back that far.
KEEP_S = 30 * 86_400

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    received REAL NOT NULL,
    source TEXT,            -- the (decrypted) event while it waits for its answer, NULL once done
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS answers (
    event_id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sent REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS choices (conversation_id TEXT PRIMARY KEY, choices TEXT NOT NULL);
-- Rooms just joined: their first timeline also holds messages older than the bot's invitation.
CREATE TABLE IF NOT EXISTS joined_rooms (room_id TEXT PRIMARY KEY);
"""


@dataclass(frozen=True)
class PendingEvent:
    room_id: str
    source: dict[str, Any]


class State:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))

    def record_sync(
        self, next_batch: str, events: Iterable[tuple[str, dict[str, Any]]], joined_seen: Iterable[str] = ()
    ) -> list[PendingEvent]:
        """Saves a sync's events to answer and its token in one transaction; returns the events not seen
        before (a sync repeated after a crash brings the same events again)."""
        new = []
        now = time.time()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for room_id, source in events:
                inserted = self._db.execute(
                    "INSERT OR IGNORE INTO events (event_id, room_id, received, source) VALUES (?, ?, ?, ?)",
                    (source["event_id"], room_id, now, json.dumps(source)),
                ).rowcount
                if inserted:
                    new.append(PendingEvent(room_id, source))
            for room_id in joined_seen:
                self._db.execute("DELETE FROM joined_rooms WHERE room_id = ?", (room_id,))
            self._db.execute("INSERT OR REPLACE INTO settings VALUES ('sync_token', ?)", (next_batch,))
        return new

    def pending(self) -> list[PendingEvent]:
        rows = self._db.execute(
            "SELECT room_id, source FROM events WHERE NOT done ORDER BY received, rowid"
        ).fetchall()
        return [PendingEvent(room_id, json.loads(source)) for room_id, source in rows]

    def is_done(self, event_id: str) -> bool:
        row = self._db.execute("SELECT done FROM events WHERE event_id = ?", (event_id,)).fetchone()
        return bool(row and row[0])

    def mark_done(self, event_id: str) -> None:
        self._db.execute("UPDATE events SET done = 1, source = NULL WHERE event_id = ?", (event_id,))

    def record_answer(self, event_id: str, room_id: str, conversation: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
            (event_id, room_id, conversation, time.time()),
        )

    def answer_conversation(self, event_id: str) -> str | None:
        """The conversation an answer of the bot belongs to, or None when it is not one of its answers."""
        row = self._db.execute(
            "SELECT conversation_id FROM answers WHERE event_id = ?", (event_id,)
        ).fetchone()
        return row[0] if row else None

    def set_choices(self, conversation: str, choices: Sequence[Choice]) -> None:
        if choices:
            encoded = json.dumps([[choice.title, choice.payload] for choice in choices])
            self._db.execute("INSERT OR REPLACE INTO choices VALUES (?, ?)", (conversation, encoded))
        else:
            self._db.execute("DELETE FROM choices WHERE conversation_id = ?", (conversation,))

    def choices(self, conversation: str) -> list[Choice]:
        row = self._db.execute(
            "SELECT choices FROM choices WHERE conversation_id = ?", (conversation,)
        ).fetchone()
        return [Choice(title, payload) for title, payload in json.loads(row[0])] if row else []

    def mark_joined(self, room_id: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO joined_rooms VALUES (?)", (room_id,))

    def just_joined(self, room_id: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM joined_rooms WHERE room_id = ?", (room_id,)).fetchone()
            is not None
        )

    def forget_room(self, room_id: str) -> None:
        """After leaving or being kicked: the room's pending questions can no longer be answered."""
        with self._db:
            self._db.execute("UPDATE events SET done = 1, source = NULL WHERE room_id = ?", (room_id,))
            prefix = f"tchap:{room_id}:"
            self._db.execute(
                "DELETE FROM choices WHERE substr(conversation_id, 1, length(?)) = ?", (prefix, prefix)
            )
            self._db.execute("DELETE FROM joined_rooms WHERE room_id = ?", (room_id,))

    def prune(self, now: float | None = None) -> None:
        cutoff = (now or time.time()) - KEEP_S
        with self._db:
            self._db.execute("DELETE FROM events WHERE done AND received < ?", (cutoff,))
            self._db.execute("DELETE FROM answers WHERE sent < ?", (cutoff,))
