"""action_search_fallback: when the NLU is unsure, offer the two topics it hesitated between, or else the
closest topics found by search; with no close topic, ask to rephrase. Every variant names who to ask.

Every variant also forgets the topic answered before, as action_forget_topic does after the out-of-scope
answer.
"""

from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.choice import close_topics
from actions.content import content_dir, content_in, get_content
from actions.dialogue import forget_topic
from actions.search import SearchIndex, build_index, search


@lru_cache(maxsize=4)
def search_index(directory: Path) -> SearchIndex:
    """The search index of a content directory, built once."""
    return build_index(content_in(directory))


class ActionSearchFallback(Action):
    def name(self) -> str:
        return "action_search_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topics = get_content().topics
        pair = close_topics(tracker.latest_message, topics)
        if pair is not None:
            first, second = (topics[topic].label for topic in pair)
            buttons = [{"title": topics[topic].label, "payload": f"/{topic}"} for topic in pair]
            dispatcher.utter_message(response="utter_fallback_choice", first=first, second=second,
                                     buttons=buttons)
            return forget_topic()
        results = search(tracker.latest_message.get("text") or "", search_index(content_dir()))
        if not results:
            dispatcher.utter_message(response="utter_please_rephrase")
            return forget_topic()
        buttons = [{"title": topics[topic].label, "payload": f"/{topic}"} for topic, _ in results]
        dispatcher.utter_message(response="utter_fallback_suggestions", buttons=buttons)
        return forget_topic()
