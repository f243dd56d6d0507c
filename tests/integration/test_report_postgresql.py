"""The report and the purge on PostgreSQL, the production store: conversations written by Rasa's own
SQLTrackerStore, read back through endpoints.production.yml and its environment variables, give the same
figures as on SQLite; the purge keeps exactly the conversation sessions within the limit, the current session
of a person who came back included."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg2
import pytest
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import URL

from reports import store
from reports.conversations import conversations
from reports.figures import figures
from tests import servers
from tests.integration import stores
from tests.unit import report_data


@pytest.fixture(scope="module")
def pg() -> Iterator[stores.Service]:
    with stores.postgresql(name="postgresql-report") as service:
        yield service


def create_database(pg: stores.Service, name: str) -> None:
    host, port = pg.address
    connection = psycopg2.connect(host=host, port=port, user=stores.PG_USER, dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    connection.close()


def production_url(pg: stores.Service, database: str) -> URL:
    """The URL the report builds from endpoints.production.yml, with the variables the servers get."""
    environ = {
        "BIENVENUE_PG_HOST": pg.address[0],
        "BIENVENUE_PG_PORT": str(pg.address[1]),
        "BIENVENUE_PG_DB": database,
        "BIENVENUE_PG_USER": stores.PG_USER,
        "BIENVENUE_PG_PASSWORD": "",
        # Read as Rasa reads the file: every variable it names is needed, the lock store's too.
        **dict.fromkeys(["BIENVENUE_REDIS_HOST", "BIENVENUE_REDIS_PORT", "BIENVENUE_REDIS_DB"], "1"),
        "BIENVENUE_REDIS_PASSWORD": "",
    }
    return store.url_from_endpoints(servers.REPO / "endpoints.production.yml", environ)


def rasa_store(pg: stores.Service, database: str) -> SQLTrackerStore:
    host, port = pg.address
    return SQLTrackerStore(dialect="postgresql", host=host, port=port, db=database, username=stores.PG_USER)


def test_the_figures_match_what_was_generated(pg: stores.Service) -> None:
    create_database(pg, "report_figures")
    writer = rasa_store(pg, "report_figures")
    report_data.write_conversations(writer)
    writer.engine.dispose()
    engine = store.open_store(production_url(pg, "report_figures"))
    assert engine is not None and engine.dialect.name == "postgresql"
    computed = figures(conversations(store.read_events(engine)), report_data.PARIS, {})
    engine.dispose()
    assert computed["totals"] == report_data.EXPECTED_TOTALS
    assert computed["per_day"] == report_data.EXPECTED_PER_DAY
    found = {row["topic"]: (row["answers"], row["positive"], row["negative"]) for row in computed["topics"]}
    assert found == report_data.EXPECTED_TOPICS
    channels = {row["channel"]: (row["conversations"], row["user_messages"]) for row in computed["channels"]}
    assert channels == report_data.EXPECTED_CHANNELS


def test_purge_deletes_exactly_the_sessions_older_than_the_limit(pg: stores.Service) -> None:
    create_database(pg, "report_purge")
    writer = rasa_store(pg, "report_purge")
    report_data.write_purge_messages(writer)
    writer.engine.dispose()
    engine = store.open_store(production_url(pg, "report_purge"))
    assert engine is not None
    assert store.purge(engine, report_data.PURGE_CUTOFF) == store.PurgeResult(*report_data.PURGE_DELETED)
    remaining: dict[str, int] = {}
    for event in store.read_events(engine):
        remaining[event.sender_id] = remaining.get(event.sender_id, 0) + 1
        assert report_data.EXPIRED_TEXT not in json.dumps(event.data)
    returning = [event for event in store.read_events(engine) if event.sender_id == "returning"]
    engine.dispose()
    assert remaining == report_data.PURGE_KEPT
    kinds = ["action", "session_started", "slot", "action", "user", "action"]
    assert [event.type_name for event in returning] == kinds
    assert returning[0].timestamp == report_data.PURGE_CUTOFF + 90 * report_data.DAY - 1
