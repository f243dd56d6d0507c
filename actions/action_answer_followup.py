"""action_answer_followup: answer "et comment on en devient un ?" or "plus de détails" in context."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import get_content
from actions.dialogue import latest_intent, send_links
from actions.followups import answer_followup


class ActionAnswerFollowup(Action):
    def name(self) -> str:
        return "action_answer_followup"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        content = get_content()
        answer = answer_followup(
            content,
            latest_intent(tracker),
            content.known_topic(tracker.get_slot("topic")),
        )
        if answer is None:
            dispatcher.utter_message(response="utter_ask_which_topic")
            return []
        dispatcher.utter_message(response=answer.response)
        send_links(dispatcher, content, answer.topic, answer.link_limit)
        return [SlotSet("topic", answer.topic)]
