"""The terminal channel's request parsing and what it reports of a message's understanding."""

from pathlib import Path

import yaml
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from channels import guard
from channels.terminal import understanding


def tracker() -> DialogueStateTracker:
    conversation = DialogueStateTracker("terminal-1", slots=[TextSlot("topic", mappings=[])])
    intent = {"name": "ask_what_is_intrapreneur", "confidence": 0.9}
    conversation.update(UserUttered("c koi un intra", intent=intent))
    conversation.update(SlotSet("topic", "ask_what_is_intrapreneur"))
    return conversation


def test_understanding_is_read_from_the_tracker() -> None:
    assert understanding(tracker(), guard.Outcome.ANSWERED) == {
        "intent": {"name": "ask_what_is_intrapreneur", "confidence": 0.9},
        "topic": "ask_what_is_intrapreneur",
    }


def test_a_refused_message_has_no_intent_of_its_own() -> None:
    # The guard did not pass it to the bot: the latest user message in the tracker is an older one.
    assert understanding(tracker(), guard.Outcome.REFUSED)["intent"] is None
    assert understanding(None, guard.Outcome.ANSWERED) == {"intent": None, "topic": None}


def test_only_the_chat_server_serves_the_terminal_channel() -> None:
    """Intents and confidences are for maintainers: the public server (`make run`) does not serve them."""
    repo = Path(__file__).resolve().parents[2]
    public = yaml.safe_load((repo / "credentials.yml").read_text("utf-8"))
    chat = yaml.safe_load((repo / "chat" / "credentials.yml").read_text("utf-8"))
    assert "channels.terminal.TerminalInput" not in public
    assert list(chat) == ["channels.terminal.TerminalInput"]
