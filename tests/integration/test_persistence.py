"""On the default profile (endpoints.yml: SQLite file at $BIENVENUE_TRACKER_DB), a conversation survives
a restart of the Rasa server: the next message continues it with its slots, `topic` included, and its
history."""

from __future__ import annotations

from pathlib import Path

from tests import servers
from tests.integration import trackers

SENDER = "persistence-restart"
BEFORE_RESTART = ["/greet", "/ask_team_roles"]
AFTER_RESTART = "/thank"


def default_profile_server(action_server: servers.Server, db: Path) -> servers.Server:
    return servers.rasa_server(
        servers.REPO / "endpoints.yml",
        name="rasa-persistence",
        extra_args=trackers.API_ARGS,
        env={
            "ACTION_SERVER_URL": action_server.ready_url.replace("/health", "/webhook"),
            "BIENVENUE_TRACKER_DB": str(db),
        },
    )


def test_conversation_continues_after_a_restart(action_server: servers.Server, tmp_path: Path) -> None:
    db = tmp_path / "conversations.db"
    with servers.running(default_profile_server(action_server, db)) as first:
        url = first.ready_url.rstrip("/")
        for message in BEFORE_RESTART:
            trackers.send(url, SENDER, message)
        before = trackers.tracker(url, SENDER)
    assert db.is_file(), "the SQLite file is created on first run"

    with servers.running(default_profile_server(action_server, db)) as second:
        url = second.ready_url.rstrip("/")
        restored = trackers.tracker(url, SENDER)
        trackers.send(url, SENDER, AFTER_RESTART)
        after = trackers.tracker(url, SENDER)

    assert restored["slots"] == before["slots"]
    assert restored["events"] == before["events"]
    assert after["slots"]["topic"] == "ask_team_roles", "the next message continues with the same topic"
    assert after["events"][: len(before["events"])] == before["events"], "the history is kept, unchanged"
    assert [turn.text for turn in trackers.turns(after["events"])] == [*BEFORE_RESTART, AFTER_RESTART]
    # The restart continues the same conversation session instead of opening a new one.
    assert [event["event"] for event in after["events"]].count("session_started") == 1
