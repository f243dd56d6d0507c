"""`make purge` on the SQLite store of a real Rasa server: a person whose first conversation is 120 days old
and who wrote again today loses the old session, texts included, and goes on talking in the current one with
its `topic` slot (Rasa reads a tracker from its last session start)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests import servers
from tests.integration import trackers
from tests.unit import report_data
from tests.unit.report_data import DAY, Say

SENDER = "returning-person"
OLD_TEXT = "question-de-la-premiere-conversation"


def write_returning_person(db: Path, now: float) -> None:
    old = report_data.session(now - 120 * DAY, "rest", [
        Say(OLD_TEXT, "ask_funding", topic="ask_funding", actions=("utter_ask_funding",)),
    ])
    # Today: the topic carried over from the old session, then the one asked now.
    current = report_data.session(now - 600, "rest", [
        Say("/ask_team_roles", "ask_team_roles", topic="ask_team_roles", actions=("utter_ask_team_roles",)),
    ], carried={"topic": "ask_funding"})
    writer = report_data.sqlite_store(str(db))
    report_data.write_conversations(writer, {SENDER: old + current})
    writer.engine.dispose()


def stored_texts(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (SENDER,)
        ).fetchall()
    return [data for (data,) in rows]


def test_a_returning_person_loses_the_old_session_and_goes_on_talking(
    action_server: servers.Server, tmp_path: Path
) -> None:
    db = tmp_path / "conversations.db"
    write_returning_person(db, time.time())
    assert any(OLD_TEXT in data for data in stored_texts(db))

    purged = subprocess.run(
        [sys.executable, "-m", "reports", "purge", "--db-url", f"sqlite:///{db}"],
        cwd=servers.REPO, env={**os.environ, "BIENVENUE_RETENTION_DAYS": "90"},
        capture_output=True, text=True, timeout=300,
    )
    assert purged.returncode == 0, purged.stderr
    assert "1 conversation supprimée" in purged.stdout
    assert not any(OLD_TEXT in data for data in stored_texts(db))
    assert OLD_TEXT.encode() not in db.read_bytes()

    server = servers.rasa_server(
        servers.REPO / "endpoints.yml",
        name="rasa-report-purge",
        extra_args=trackers.API_ARGS,
        env={
            "ACTION_SERVER_URL": action_server.webhook_url,
            "BIENVENUE_TRACKER_DB": str(db),
        },
    )
    with servers.running(server) as rasa:
        url = rasa.ready_url.rstrip("/")
        assert trackers.tracker(url, SENDER)["slots"]["topic"] == "ask_team_roles"
        reply = trackers.send(url, SENDER, "/thank").json()
        after = trackers.tracker(url, SENDER)
    assert reply, "the assistant answers the next message"
    assert after["slots"]["topic"] == "ask_team_roles", "the current topic survives the purge"
    assert [turn.text for turn in trackers.turns(after["events"])][-2:] == ["/ask_team_roles", "/thank"]
