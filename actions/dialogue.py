"""Helpers shared by the action modules: reading the tracker and sending the links message."""

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog import format_links, pages_for_topic
from actions.content import Content


def latest_intent(tracker: Tracker) -> str | None:
    """Intent of the latest user message, nlu_fallback included."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def forget_topic() -> list[dict[str, Any]]:
    """The events of an abstention: the message was answered with no topic, so the one before is forgotten
    (neither « un lien ? » nor a reader of the `topic` slot may credit it to this message)."""
    return [SlotSet("topic", None)]


def send_links(dispatcher: CollectingDispatcher, content: Content, topic: str, limit: int) -> None:
    """Utter the first `limit` pages of `topic` through utter_topic_links (which carries 👍/👎)."""
    pages = pages_for_topic(content, topic, limit)
    if pages:
        dispatcher.utter_message(response="utter_topic_links", links=format_links(pages))
