"""What a new conversation session keeps (domain.yml, session_config): after an hour without a message, the
next one starts a new session that carries the slots over. The topic is kept (« plus de détails » still
refers to the last answer, which the widget keeps showing) and the feedback carried over is not counted a
second time by the report.
"""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from reports import conversations, store
from tests import servers
from tests.integration.conftest import Bot

DOMAIN = Domain.load(servers.REPO / "domain.yml")
SENDER = "session-after-a-break"
DETAILS_START = DOMAIN.responses["utter_ask_team_roles_details"][0]["text"][:40]


def user(intent: str, at: float) -> UserUttered:
    parse_data = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": f"/{intent}"}
    return UserUttered(f"/{intent}", intent=parse_data["intent"], parse_data=parse_data, timestamp=at)


def write_past_session(bot: Bot, hours_ago: float) -> None:
    """A session as Rasa stores it: a question on team roles, then a 👍, `hours_ago` hours ago."""
    at = time.time() - hours_ago * 3600
    events = [
        ActionExecuted("action_session_start", timestamp=at),
        SessionStarted(timestamp=at + 0.1),
        ActionExecuted("action_listen", timestamp=at + 0.2),
        user("ask_team_roles", at + 1),
        SlotSet("topic", "ask_team_roles", timestamp=at + 1.1),
        ActionExecuted("utter_ask_team_roles", timestamp=at + 1.2),
        BotUttered("…", timestamp=at + 1.3),
        ActionExecuted("action_listen", timestamp=at + 1.4),
        user("feedback_positive", at + 2),
        SlotSet("feedback", "positive", timestamp=at + 2.1),
        ActionExecuted("utter_feedback_positive", timestamp=at + 2.2),
        ActionExecuted("action_listen", timestamp=at + 2.3),
    ]
    writer = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(bot.tracker_db))
    tracker = writer.init_tracker(SENDER)
    for event in events:
        tracker.update(event)
    asyncio.run(writer.save(tracker))


def test_after_a_break_a_new_session_keeps_the_topic_and_the_feedback_counts_once(bot: Bot) -> None:
    write_past_session(bot, hours_ago=2)

    replies = bot.send(SENDER, "/ask_more_details")

    assert any(reply.get("text", "").startswith(DETAILS_START) for reply in replies), replies
    engine = sa.create_engine(f"sqlite:///{bot.tracker_db}")
    stored = [event for event in store.read_events(engine) if event.sender_id == SENDER]
    kinds = [event.type_name for event in stored]
    assert kinds.count("session_started") == 2, "the message after the break opened a new session"
    sessions = conversations.conversations(stored)
    assert len(sessions) == 2
    feedback = [turn.feedback for session in sessions for turn in session.turns if turn.feedback]
    assert feedback == ["positive"], "the carried-over feedback is not a second 👍"
    assert bot.slot(SENDER, "topic") == "ask_team_roles"


def test_within_the_hour_the_session_goes_on(bot: Bot) -> None:
    sender = "session-no-break"
    bot.send(sender, "/ask_team_roles")
    bot.send(sender, "/ask_more_details")
    engine = sa.create_engine(f"sqlite:///{bot.tracker_db}")
    kinds = [event.type_name for event in store.read_events(engine) if event.sender_id == sender]
    assert kinds.count("session_started") == 1
