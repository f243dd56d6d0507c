"""On the default profile (endpoints.yml: SQLite file at $BIENVENUE_TRACKER_DB), a conversation survives
a restart of the Rasa server: another Rasa process on the same store continues it with its slots, `topic`
included, and its history."""

from __future__ import annotations

from tests.integration import trackers
from tests.integration.conftest import Bot

SENDER = "persistence-restart"
BEFORE_RESTART = ["/greet", "/ask_team_roles"]
AFTER_RESTART = "/thank"


def test_conversation_continues_after_a_restart(bot: Bot, restarted_bot: Bot) -> None:
    for message in BEFORE_RESTART:
        bot.send(SENDER, message)
    before = bot.tracker(SENDER)
    assert bot.tracker_db.is_file(), "the SQLite file is created on first run"

    restored = restarted_bot.tracker(SENDER)
    restarted_bot.send(SENDER, AFTER_RESTART)
    after = restarted_bot.tracker(SENDER)

    assert restored["slots"] == before["slots"]
    assert restored["events"] == before["events"]
    assert after["slots"]["topic"] == "ask_team_roles", "the next message continues with the same topic"
    assert after["events"][: len(before["events"])] == before["events"], "the history is kept, unchanged"
    assert [turn.text for turn in trackers.turns(after["events"])] == [*BEFORE_RESTART, AFTER_RESTART]
    # The restart continues the same conversation session instead of opening a new one.
    assert [event["event"] for event in after["events"]].count("session_started") == 1
