"""action_forget_topic: after the out-of-scope answer, the topic answered before is forgotten
(actions/dialogue.py, forget_topic)."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import forget_topic


class ActionForgetTopic(Action):
    def name(self) -> str:
        return "action_forget_topic"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return forget_topic()
