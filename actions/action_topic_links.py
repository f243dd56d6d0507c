"""action_topic_links: the reference links of the current topic, with the feedback buttons."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog import LINKS_AFTER_ANSWER, LINKS_ON_REQUEST
from actions.content import get_content
from actions.dialogue import latest_intent, send_links

ASK_LINK_INTENT = "ask_link"


class ActionTopicLinks(Action):
    def name(self) -> str:
        return "action_topic_links"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        content = get_content()
        topic = content.known_topic(tracker.get_slot("topic"))
        if topic is None:
            dispatcher.utter_message(response="utter_ask_which_topic")
            return []
        limit = LINKS_ON_REQUEST if latest_intent(tracker) == ASK_LINK_INTENT else LINKS_AFTER_ANSWER
        send_links(dispatcher, content, topic, limit)
        return []
