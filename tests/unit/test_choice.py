"""« Vouliez-vous dire A ou B ? » only when two plausible topics are close."""

from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet

from actions.action_search_fallback import ActionSearchFallback
from actions.choice import close_topics
from actions.content import Content

Run = Callable[[Action, Tracker], tuple[list[dict[str, Any]], list[dict[str, Any]]]]
TOPICS = {"ask_funding", "ask_what_is_intrapreneur", "ask_become_intrapreneur"}


def parse(ranking: list[tuple[str, float]], plausible: list[str] | None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "text": "intra financement",
        "intent": {"name": "nlu_fallback", "confidence": 0.45},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.45}]
        + [{"name": name, "confidence": confidence} for name, confidence in ranking],
        "entities": [],
    }
    if plausible is not None:
        message["out_of_domain"] = {"plausible": plausible}
    return message


def test_two_close_plausible_topics() -> None:
    message = parse([("ask_what_is_intrapreneur", 0.42), ("ask_become_intrapreneur", 0.40)],
                    ["ask_what_is_intrapreneur", "ask_become_intrapreneur"])
    assert close_topics(message, TOPICS) == ("ask_what_is_intrapreneur", "ask_become_intrapreneur")


@pytest.mark.parametrize(
    ("ranking", "plausible"),
    [
        # the second topic is far behind
        ([("ask_what_is_intrapreneur", 0.6), ("ask_become_intrapreneur", 0.1)],
         ["ask_what_is_intrapreneur", "ask_become_intrapreneur"]),
        # the message does not look like the second topic's examples
        ([("ask_what_is_intrapreneur", 0.42), ("ask_funding", 0.40)], ["ask_what_is_intrapreneur"]),
        # no guard scores: fail closed, no choice
        ([("ask_what_is_intrapreneur", 0.42), ("ask_become_intrapreneur", 0.40)], None),
        # a single topic in the ranking
        ([("ask_funding", 0.42), ("greet", 0.40)], ["ask_funding", "greet"]),
    ],
)
def test_no_choice(ranking: list[tuple[str, float]], plausible: list[str] | None) -> None:
    assert close_topics(parse(ranking, plausible), TOPICS) is None


def test_the_fallback_offers_the_two_topics(run_action: Run, content: Content) -> None:
    message = parse([("ask_what_is_intrapreneur", 0.42), ("ask_become_intrapreneur", 0.40)],
                    ["ask_what_is_intrapreneur", "ask_become_intrapreneur"])
    tracker = Tracker.from_dict({"sender_id": "unit-test", "slots": {}, "latest_message": message,
                                 "events": [], "paused": False, "latest_action_name": "action_listen"})
    events, sent = run_action(ActionSearchFallback(), tracker)
    first = content.topics["ask_what_is_intrapreneur"].label
    second = content.topics["ask_become_intrapreneur"].label
    assert events == [SlotSet("topic", None)]
    assert sent == [{
        "response": "utter_fallback_choice",
        "buttons": [{"title": first, "payload": "/ask_what_is_intrapreneur"},
                    {"title": second, "payload": "/ask_become_intrapreneur"}],
        "first": first,
        "second": second,
    }]
