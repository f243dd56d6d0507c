"""The report reads the database the Rasa server writes: the tracker_store of the endpoints files, with the
same environment variables, or a SQLAlchemy URL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import settings
from reports import store

REPO = Path(__file__).resolve().parents[2]


def test_the_default_profile_reads_the_sqlite_file_that_scripts_run_sh_uses() -> None:
    url = store.url_from_endpoints(REPO / "endpoints.yml", {})
    default_db = settings.SETTINGS["BIENVENUE_TRACKER_DB"].default
    assert (url.get_backend_name(), url.database) == ("sqlite", default_db)
    url = store.url_from_endpoints(REPO / "endpoints.yml", {"BIENVENUE_TRACKER_DB": "/data/conv.db"})
    assert url.database == "/data/conv.db"


def test_the_production_profile_reads_postgresql_from_the_same_variables_as_rasa() -> None:
    environ = {
        "BIENVENUE_PG_HOST": "db.internal",
        "BIENVENUE_PG_PORT": "5433",
        "BIENVENUE_PG_DB": "bienvenue",
        "BIENVENUE_PG_USER": "rasa",
        "BIENVENUE_PG_PASSWORD": "s3cret",
        # Read as Rasa reads the file: every variable it names is needed, the lock store's too.
        **dict.fromkeys(["BIENVENUE_REDIS_HOST", "BIENVENUE_REDIS_PORT", "BIENVENUE_REDIS_DB"], "1"),
        "BIENVENUE_REDIS_PASSWORD": "",
    }
    url = store.url_from_endpoints(REPO / "endpoints.production.yml", environ)
    assert url.get_backend_name() == "postgresql"
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "db.internal", 5433, "bienvenue", "rasa", "s3cret"
    )


def test_a_missing_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(store.StoreConfigError, match="BIENVENUE_PG_HOST"):
        store.url_from_endpoints(REPO / "endpoints.production.yml", {})


def test_a_host_with_its_port_or_a_full_url_is_accepted(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: ${HOST}\n  db: x\n")
    assert store.url_from_endpoints(endpoints, {"HOST": "db:6000"}).port == 6000
    full = store.url_from_endpoints(endpoints, {"HOST": "postgresql://u@h:7000/y"})
    assert (full.host, full.port, full.database) == ("h", 7000, "y")


def test_a_tracker_store_that_is_not_sql_is_refused(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: redis\n  url: localhost\n")
    with pytest.raises(store.StoreConfigError, match="SQL"):
        store.url_from_endpoints(endpoints, {})


def test_a_database_without_the_events_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{path}").connect().close()
    assert path.exists()
    with pytest.raises(store.MissingStoreError, match="table events"):
        store.open_store(f"sqlite:///{path}")
