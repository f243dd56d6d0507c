"""Retention: `purge` deletes exactly the conversation sessions whose last event is older than the limit, all
of their events, and nothing else (a person who came back keeps only their recent sessions); the deleted text
does not stay in the SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from reports import store
from tests.unit import report_data
from tests.unit.report_data import CURRENT_TEXT, DAY, EXPIRED_TEXT, PURGE_CUTOFF, PURGE_DELETED, PURGE_KEPT


def events_per_sender(engine: sa.engine.Engine) -> dict[str, int]:
    query = sa.select(store.EVENTS.c.sender_id, sa.func.count()).group_by(store.EVENTS.c.sender_id)
    with engine.connect() as connection:
        return dict(connection.execute(query).all())


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "conversations.db"
    writer = report_data.sqlite_store(str(path))
    report_data.write_purge_messages(writer)
    writer.engine.dispose()
    return path


@pytest.fixture
def engine(database: Path) -> sa.engine.Engine:
    engine = store.open_store(f"sqlite:///{database}")
    assert engine is not None
    return engine


def test_purge_deletes_exactly_the_sessions_older_than_the_limit(engine: sa.engine.Engine) -> None:
    assert store.purge(engine, PURGE_CUTOFF) == store.PurgeResult(*PURGE_DELETED)
    # Kept whole, even the events older than the limit: a session goes when its last event does.
    assert events_per_sender(engine) == PURGE_KEPT


def test_a_person_who_came_back_keeps_only_the_current_session(engine: sa.engine.Engine) -> None:
    store.purge(engine, PURGE_CUTOFF)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(store.EVENTS.c.type_name, store.EVENTS.c.timestamp, store.EVENTS.c.data)
            .where(store.EVENTS.c.sender_id == "returning")
            .order_by(store.EVENTS.c.id)
        ).all()
    # The current session, from the action that started it: what Rasa reads the tracker from.
    kinds = ["action", "session_started", "slot", "action", "user", "action"]
    assert [row.type_name for row in rows] == kinds
    assert min(row.timestamp for row in rows) == PURGE_CUTOFF + 90 * DAY - 1
    assert all(EXPIRED_TEXT not in row.data for row in rows) and CURRENT_TEXT in rows[4].data


def test_sessions_start_at_the_action_that_starts_them() -> None:
    rows = [
        (1, "a", "user", None, 10.0), (2, "a", "action", "action_listen", 10.0),
        (3, "a", "action", "action_session_start", 20.0), (4, "a", "session_started", None, 20.0),
        (5, "a", "action", "action_listen", 20.0), (6, "a", "user", None, 21.0),
        # Session started on the first message: the starting action opens the first session itself.
        (7, "b", "action", "action_session_start", 5.0), (8, "b", "session_started", None, 5.0),
        (9, "b", "user", None, 6.0),
        (10, "b", "session_started", None, 30.0), (11, "b", "user", None, 31.0),
    ]
    assert store.sessions(rows) == [
        store.Session("a", 1, 2, 10.0), store.Session("a", 3, 6, 21.0),
        store.Session("b", 7, 9, 6.0), store.Session("b", 10, 11, 31.0),
    ]


def test_a_second_purge_finds_nothing_more(engine: sa.engine.Engine) -> None:
    store.purge(engine, PURGE_CUTOFF)
    assert store.purge(engine, PURGE_CUTOFF) == store.PurgeResult(conversations=0, events=0)


def test_purging_with_an_earlier_limit_keeps_more(engine: sa.engine.Engine) -> None:
    assert store.purge(engine, PURGE_CUTOFF - 10 * DAY) == store.PurgeResult(conversations=2, events=8 + 2)
    assert store.purge(engine, PURGE_CUTOFF - 3 * DAY) == store.PurgeResult(conversations=1, events=6)
    assert store.purge(engine, PURGE_CUTOFF - 3 * DAY) == store.PurgeResult(conversations=0, events=0)
    assert store.purge(engine, PURGE_CUTOFF - 3 * DAY + 1).conversations == 1


def test_the_deleted_text_is_overwritten_in_the_sqlite_file(database: Path, engine: sa.engine.Engine) -> None:
    assert EXPIRED_TEXT.encode() in database.read_bytes()

    # Some SQLite builds (Debian's) overwrite deleted rows by default, others (macOS, pyenv) do not.
    @sa.event.listens_for(engine, "connect")
    def like_a_build_that_keeps_deleted_rows(connection: Any, _: Any) -> None:
        connection.execute("PRAGMA secure_delete = OFF")

    engine.dispose()  # new connections from now on
    store.purge(engine, PURGE_CUTOFF)
    engine.dispose()
    assert EXPIRED_TEXT.encode() not in database.read_bytes()
