"""The conversations as Rasa's SQLTrackerStore keeps them: one `events` table, one row per event.

The database is the one the Rasa server uses: the `tracker_store` of an endpoints file (endpoints.yml:
SQLite at $BIENVENUE_TRACKER_DB; endpoints.production.yml: PostgreSQL from the BIENVENUE_PG_* variables),
or any SQLAlchemy URL given directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import URL, Engine, make_url

# The defaults scripts/run.sh gives the variables that endpoints.yml uses.
ENV_DEFAULTS = {"BIENVENUE_TRACKER_DB": "var/conversations.db"}
_VARIABLE = re.compile(r"\$\{([^}]+)\}")

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


def _expand(value: Any, environ: Mapping[str, str]) -> Any:
    """${VAR} replaced by its value, as Rasa does when it reads an endpoints file."""
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in environ:
            return environ[name]
        if name in ENV_DEFAULTS:
            return ENV_DEFAULTS[name]
        raise StoreConfigError(f"la variable d'environnement {name} n'est pas définie")

    return _VARIABLE.sub(replace, value)


def url_from_endpoints(endpoints: Path, environ: Mapping[str, str]) -> URL:
    """The database URL of the endpoints file's tracker store, built like SQLTrackerStore.get_db_url."""
    config = (yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}).get("tracker_store") or {}
    if str(config.get("type", "")).lower() not in SQL_STORE_TYPES:
        raise StoreConfigError(f"{endpoints} : le tracker_store n'est pas de type SQL")
    config = {key: _expand(value, environ) for key, value in config.items()}
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


def open_store(url: URL | str) -> Engine | None:
    """An engine on the store, or None when there is nothing to read (a SQLite file not created yet)."""
    url = make_url(url)
    is_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if is_file and not Path(url.database).exists():
        return None
    engine = sa.create_engine(url)
    if not sa.inspect(engine).has_table(EVENTS.name):
        engine.dispose()
        return None
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
    conversations: int
    events: int


def purge(engine: Engine, cutoff: float) -> PurgeResult:
    """Delete every conversation whose last event is older than `cutoff` (a Unix time), all of its events.

    A conversation with a single recent event is kept whole: its earlier turns give that event its meaning.
    """
    last_event = sa.func.max(EVENTS.c.timestamp)
    expired = sa.select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id).having(last_event < cutoff)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            # Overwrite the deleted rows in the file too, instead of leaving them in free pages.
            connection.execute(sa.text("PRAGMA secure_delete = ON"))
        conversations = connection.execute(
            sa.select(sa.func.count()).select_from(expired.subquery())
        ).scalar_one()
        events = connection.execute(sa.delete(EVENTS).where(EVENTS.c.sender_id.in_(expired))).rowcount
    return PurgeResult(conversations=conversations, events=events)
