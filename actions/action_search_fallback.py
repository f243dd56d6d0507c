"""action_search_fallback: when the NLU is unsure, suggest the closest topics found by search."""

from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.content import get_content
from actions.search import SearchIndex, build_index, search


@lru_cache(maxsize=1)
def search_index() -> SearchIndex:
    return build_index(get_content())


class ActionSearchFallback(Action):
    def name(self) -> str:
        return "action_search_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topics = get_content().topics
        results = search(tracker.latest_message.get("text") or "", search_index())
        if not results:
            dispatcher.utter_message(response="utter_please_rephrase")
            return []
        buttons = [{"title": topics[topic].label, "payload": f"/{topic}"} for topic, _ in results]
        dispatcher.utter_message(response="utter_fallback_suggestions", buttons=buttons)
        return []
