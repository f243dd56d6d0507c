"""Retention: `purge` deletes exactly the conversations whose last event is older than the limit, all of
their events, and nothing else; the deleted text does not stay in the SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from reports import store
from tests.unit import report_data
from tests.unit.report_data import DAY, EXPIRED_TEXT, PURGE_CUTOFF, PURGE_KEPT


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


def test_purge_deletes_exactly_the_conversations_older_than_the_limit(engine: sa.engine.Engine) -> None:
    result = store.purge(engine, PURGE_CUTOFF)
    assert result == store.PurgeResult(conversations=2, events=2 * (3 + 1))
    # Kept whole, even the events older than the limit: a conversation goes when its last event does.
    assert events_per_sender(engine) == PURGE_KEPT


def test_a_second_purge_finds_nothing_more(engine: sa.engine.Engine) -> None:
    store.purge(engine, PURGE_CUTOFF)
    assert store.purge(engine, PURGE_CUTOFF) == store.PurgeResult(conversations=0, events=0)


def test_purging_with_an_earlier_limit_keeps_more(engine: sa.engine.Engine) -> None:
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
