"""action_forget_topic: after the out-of-scope answer, the topic answered before is forgotten.

The message was answered with no topic, so neither a follow-up (« un lien ? ») nor a reader of the `topic`
slot (reports, conversation tests) may take the previous topic for this message's.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionForgetTopic(Action):
    def name(self) -> str:
        return "action_forget_topic"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return self.forget()

    @staticmethod
    def forget() -> list[dict[str, Any]]:
        return [SlotSet("topic", None)]
