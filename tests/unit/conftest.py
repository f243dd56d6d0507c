"""Fixtures for the custom action tests: trackers built with Tracker.from_dict, and a runner that
returns the action's events with the responses it dispatched."""

from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.content import CONTENT_DIR_ENV, Content, get_content
from tests.unit.trackers import Sent

# Keys every dispatched message has; anything else is a template variable the action filled.
_MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


@pytest.fixture(autouse=True)
def repo_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test reads the repository's content/, whatever the environment says."""
    monkeypatch.delenv(CONTENT_DIR_ENV, raising=False)


@pytest.fixture
def content() -> Content:
    return get_content()


@pytest.fixture
def run_action() -> Callable[[Action, Tracker], tuple[list[dict[str, Any]], Sent]]:
    """Run an action; return its events and, per message, the response name, buttons and variables."""

    def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], Sent]:
        dispatcher = CollectingDispatcher()
        events = action.run(dispatcher, tracker, {})
        sent = []
        for message in dispatcher.messages:
            summary = {"response": message["response"]}
            if message["buttons"]:
                summary["buttons"] = message["buttons"]
            summary.update({k: v for k, v in message.items() if k not in _MESSAGE_KEYS})
            sent.append(summary)
        return events, sent

    return run
