"""Feedback counts only as the reply to « Cette réponse vous a-t-elle été utile ? » (issue 11)."""

from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet

from actions.action_record_feedback import ActionRecordFeedback, asked_for_feedback

Run = Callable[[Action, Tracker], tuple[list[dict[str, Any]], list[dict[str, Any]]]]

FEEDBACK_BUTTONS = [
    {"title": "👍 Oui", "payload": "/feedback_positive"},
    {"title": "👎 Non", "payload": "/feedback_negative"},
]


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {}}


def bot(text: str, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"event": "bot", "text": text, "data": {"buttons": buttons}}


ANSWER_WITH_LINKS = [
    {"event": "action", "name": "action_listen"},
    user("c'est quoi un intrapreneur ?"),
    {"event": "action", "name": "utter_ask_what_is_intrapreneur"},
    bot("Un intrapreneur est…"),
    {"event": "action", "name": "action_topic_links"},
    bot("Pour aller plus loin…", FEEDBACK_BUTTONS),
    {"event": "action", "name": "action_listen"},
]


def tracker_for(intent: str, text: str, events: list[dict[str, Any]]) -> Tracker:
    return Tracker.from_dict({
        "sender_id": "unit-test",
        "slots": {"topic": None, "administration": None, "feedback": None},
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
        "events": [*events, user(text)],
        "paused": False,
        "latest_action_name": "action_listen",
    })


def test_feedback_right_after_an_answer_that_asked_for_it() -> None:
    assert asked_for_feedback([*ANSWER_WITH_LINKS, user("ok")])


@pytest.mark.parametrize(
    "events",
    [
        [],  # a new conversation
        [user("bonjour"), bot("Bonjour, je suis Bienvenue…")],  # an answer that asked nothing
        # the question about the feedback, then another exchange: the feedback belongs to nothing now
        [*ANSWER_WITH_LINKS, user("combien coûte la cantine ?"), bot("Désolé, je ne peux pas vous aider…")],
    ],
)
def test_no_feedback_expected(events: list[dict[str, Any]]) -> None:
    assert not asked_for_feedback([*events, user("ok")])


def test_positive_feedback_after_an_answer_is_recorded(run_action: Run) -> None:
    tracker = tracker_for("feedback_positive", "ok", ANSWER_WITH_LINKS)
    events, sent = run_action(ActionRecordFeedback(), tracker)
    assert events == [SlotSet("feedback", "positive")]
    assert sent == [{"response": "utter_feedback_positive"}]


def test_negative_feedback_after_an_answer_is_recorded(run_action: Run) -> None:
    tracker = tracker_for("feedback_negative", "pas clair", ANSWER_WITH_LINKS)
    events, sent = run_action(ActionRecordFeedback(), tracker)
    assert events == [SlotSet("feedback", "negative")]
    assert sent == [{"response": "utter_feedback_negative"}]


@pytest.mark.parametrize("text", ["ok", "👍", "jean.dupont@beta.gouv.fr"])
def test_feedback_opening_a_conversation_is_not_recorded(run_action: Run, text: str) -> None:
    events, sent = run_action(ActionRecordFeedback(), tracker_for("feedback_positive", text, []))
    assert events == []
    assert sent == [{"response": "utter_feedback_unexpected"}]
