"""Trackers for the action tests, built the way the action server receives them (Tracker.from_dict)."""

from typing import Any

from rasa_sdk import Tracker

# What an action dispatched: per message, the response name, its buttons and the variables it filled.
Sent = list[dict[str, Any]]


def make_tracker(
    intent: str | None,
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
) -> Tracker:
    latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.95} if intent else {},
        "intent_ranking": [{"name": intent, "confidence": 0.95}] if intent else [],
        "entities": entities or [],
    }
    return Tracker.from_dict(
        {
            "sender_id": "unit-test",
            "slots": {"topic": None, "administration": None, "feedback": None, **(slots or {})},
            "latest_message": latest_message,
            "events": [],
            "paused": False,
            "latest_action_name": "action_listen",
        }
    )


def administration_entity(value: str) -> dict[str, Any]:
    return {"entity": "administration", "value": value, "start": 0, "end": len(value), "extractor": "test"}
