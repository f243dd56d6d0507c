"""Helpers shared by the action modules: reading the tracker and sending the links message."""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog import format_links, pages_for_topic
from actions.content import Content


def latest_intent(tracker: Tracker) -> str | None:
    """Intent of the latest user message, nlu_fallback included."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def send_links(dispatcher: CollectingDispatcher, content: Content, topic: str, limit: int) -> None:
    """Utter the first `limit` pages of `topic` through utter_topic_links (which carries 👍/👎)."""
    pages = pages_for_topic(content, topic, limit)
    if pages:
        dispatcher.utter_message(response="utter_topic_links", links=format_links(pages))
