"""The conversations as Rasa's SQLTrackerStore keeps them: one `events` table, one row per event.

The database is the one the Rasa server uses: the `tracker_store` of an endpoints file (endpoints.yml:
SQLite at $BIENVENUE_TRACKER_DB; endpoints.production.yml: PostgreSQL from the BIENVENUE_PG_* variables),
or any SQLAlchemy URL given directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from rasa.shared.exceptions import RasaException
from rasa.shared.utils.io import read_config_file
from sqlalchemy.engine import URL, Engine, make_url

import settings

# Rasa's SQL store and Bienvenue's caching subclass of it (same table, same rows).
SQL_STORE_TYPES = ("sql", "stores.caching_sql.cachingsqltrackerstore")
# The columns of rasa.core.tracker_store.SQLTrackerStore.SQLEvent (Rasa 3.6) that the report reads.
EVENTS = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)
# What the report needs: messages, slots, actions (turn ends, fallbacks) and session boundaries.
READ_TYPES = ("user", "slot", "action", "session_started", "restart")


class StoreConfigError(ValueError):
    """The endpoints file does not describe an SQL tracker store the report can read."""


@dataclass(frozen=True)
class StoredEvent:
    sender_id: str
    type_name: str
    timestamp: float
    data: dict[str, Any]


@contextmanager
def _os_environ(environ: Mapping[str, str]) -> Iterator[None]:
    """os.environ holding exactly `environ` for a while: Rasa's reader expands ${VAR} from os.environ only."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def url_from_endpoints(endpoints: Path, environ: Mapping[str, str]) -> URL:
    """The database URL of the endpoints file's tracker store, built like SQLTrackerStore.get_db_url.

    The file is read by Rasa's own reader, with the settings' defaults for unset variables, as the server
    started by scripts/run.sh reads it."""
    try:
        with _os_environ(settings.with_defaults(environ)):
            config = read_config_file(endpoints).get("tracker_store") or {}
    except RasaException as error:  # names the missing variables
        raise StoreConfigError(f"{endpoints}\u202f: {error}") from None
    if str(config.get("type", "")).lower() not in SQL_STORE_TYPES:
        raise StoreConfigError(f"{endpoints} : le tracker_store n'est pas de type SQL")
    host = config.get("url") or None
    if host and "://" in host:
        return make_url(host)
    port = config.get("port")
    port = int(port) if port not in (None, "") else None
    if host:  # "host:port" is accepted too
        parsed = urlsplit(f"scheme://{host}")
        host, port = parsed.hostname or host, parsed.port or port
    return URL.create(
        config.get("dialect", "sqlite"),
        username=config.get("username") or None,
        password=config.get("password") or None,
        host=host,
        port=port,
        database=config.get("db", "rasa.db"),
    )


class MissingStoreError(ValueError):
    """The tracker store has no conversations to read: no such SQLite file, or no events table in it."""


def open_store(url: URL | str) -> Engine:
    """An engine on the store; MissingStoreError when there is nothing to read (and nothing is created)."""
    url = make_url(url)
    is_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if is_file and not Path(str(url.database)).exists():
        raise MissingStoreError(f"la base des conversations {url.database} n'existe pas")
    engine = sa.create_engine(url)
    if not sa.inspect(engine).has_table(EVENTS.name):
        engine.dispose()
        where = url.render_as_string(hide_password=True)
        raise MissingStoreError(f"la base {where} ne contient pas de conversations de Rasa (table events)")
    return engine


def read_events(engine: Engine) -> list[StoredEvent]:
    """The events the report uses, each conversation's in the order Rasa stored them."""
    query = (
        sa.select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
        .where(EVENTS.c.type_name.in_(READ_TYPES))
        .order_by(EVENTS.c.sender_id, EVENTS.c.id)
    )
    with engine.connect() as connection:
        return [
            StoredEvent(row.sender_id, row.type_name, row.timestamp or 0.0, json.loads(row.data or "{}"))
            for row in connection.execute(query)
        ]


@dataclass(frozen=True)
class PurgeResult:
    conversations: int  # conversation sessions deleted
    events: int


@dataclass(frozen=True)
class Session:
    """One conversation session: the events of `sender_id` whose ids run from `first` to `last`."""

    sender_id: str
    first: int
    last: int
    last_timestamp: float


# id, sender_id, type_name, action_name, timestamp
SessionRow = tuple[int, str, str, str | None, float | None]


def sessions(rows: Sequence[SessionRow]) -> list[Session]:
    """Each sender's events, ordered by id, split into conversation sessions.

    A session starts at each `session_started` event, or at the `action_session_start` action logged just
    before it; the events stored before a sender's first session start belong to a session of their own.
    """
    by_sender: dict[str, list[SessionRow]] = {}
    for row in rows:
        by_sender.setdefault(row[1], []).append(row)
    result = []
    for sender_id, events in by_sender.items():
        starts = [0]
        for index, (_, _, type_name, _, _) in enumerate(events):
            if type_name != "session_started":
                continue
            opened_by_action = index > 0 and events[index - 1][3] == "action_session_start"
            start = index - 1 if opened_by_action else index
            if start > starts[-1]:
                starts.append(start)
        for start, end in zip(starts, [*starts[1:], len(events)], strict=True):
            part = events[start:end]
            result.append(
                Session(sender_id, part[0][0], part[-1][0], max(row[4] or 0.0 for row in part))
            )
    return result


def purge(engine: Engine, cutoff: float) -> PurgeResult:
    """Delete every conversation session whose last event is older than `cutoff` (a Unix time), all of its
    events, and nothing else.

    A person who came back keeps only their recent sessions: Rasa reads a tracker from its last session start
    on, so the older ones are not needed. A session with a single recent event is kept whole: its earlier
    turns give that event its meaning.
    """
    columns = (EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.action_name, EVENTS.c.timestamp)
    delete = sa.delete(EVENTS).where(
        EVENTS.c.sender_id == sa.bindparam("sender"),
        EVENTS.c.id.between(sa.bindparam("lo"), sa.bindparam("hi")),
    )
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            # Overwrite the deleted rows in the file too, instead of leaving them in free pages.
            connection.execute(sa.text("PRAGMA secure_delete = ON"))
        rows = connection.execute(sa.select(*columns).order_by(EVENTS.c.sender_id, EVENTS.c.id)).all()
        expired = [session for session in sessions(rows) if session.last_timestamp < cutoff]
        events = 0
        for session in expired:  # one statement each: the rowcount of an executemany is not portable
            events += connection.execute(
                delete, {"sender": session.sender_id, "lo": session.first, "hi": session.last}
            ).rowcount
    return PurgeResult(conversations=len(expired), events=events)
