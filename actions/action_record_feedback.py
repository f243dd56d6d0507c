"""action_record_feedback: records 👍/👎 only when it answers the assistant's « Cette réponse vous a-t-elle
été utile ? ».

A bare « ok », an emoji or « top » opening a conversation is not a judgement of any answer: it gets a
neutral reply and the `feedback` slot (read by the reports) stays untouched.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import latest_intent

# Intent → (value of the `feedback` slot, thanks sent).
FEEDBACK = {
    "feedback_positive": ("positive", "utter_feedback_positive"),
    "feedback_negative": ("negative", "utter_feedback_negative"),
}
FEEDBACK_PAYLOADS = {f"/{intent}" for intent in FEEDBACK}


def asked_for_feedback(events: Iterable[Mapping[str, Any]]) -> bool:
    """True when the assistant's last message before the latest user message offered the feedback buttons."""
    users_seen = 0
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind == "user":
            users_seen += 1
            if users_seen > 1:
                return False
        elif kind == "bot" and users_seen == 1:
            buttons = (event.get("data") or {}).get("buttons") or []
            return any(button.get("payload") in FEEDBACK_PAYLOADS for button in buttons)
    return False


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        feedback = FEEDBACK.get(latest_intent(tracker) or "")
        if feedback is None or not asked_for_feedback(tracker.events):
            dispatcher.utter_message(response="utter_feedback_unexpected")
            return []
        value, thanks = feedback
        dispatcher.utter_message(response=thanks)
        return [SlotSet("feedback", value)]
