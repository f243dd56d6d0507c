"""Stored events -> conversations and turns (a user message and what the assistant did about it).

A conversation is one Rasa conversation session: the messages of one sender without a pause longer than the
domain's session_expiration_time, from one `session_started` event to the next (the events stored before a
sender's first one are a conversation too). The purge deletes the same sessions (store.sessions).
A turn runs from a user message to the next `action_listen`.

The topic a turn answered is read from the `topic` slot, but not every SlotSet of it is an answer:
- the slots carried over at a session start (before any message of the new session) are restored values;
- while Rasa extracts slots (after the message, before the first action), a from_intent mapping sets the
  topic to the message's own intent; any other value set then comes from a custom slot mapping that runs on
  every message whatever its intent, so it is not what the assistant answered;
- once an action has run, the action set it (the follow-ups and the incubator finder do).
Feedback is about the last topic answered before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from reports.store import StoredEvent

NLU_FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
CORE_FALLBACK_ACTION = "action_default_fallback"
FEEDBACK_VALUES = ("positive", "negative")

Outcome = Literal["answered", "fallback", "out_of_scope"]


@dataclass
class Turn:
    timestamp: float
    text: str
    intent: str | None
    channel: str | None
    # The intents the model ranked for this message, best first: what it would have answered.
    ranking: tuple[tuple[str, float], ...]
    actions: list[str] = field(default_factory=list)
    topic: str | None = None  # the topic answered
    feedback: str | None = None  # "positive" or "negative"
    feedback_topic: str | None = None  # the topic the feedback is about: the last one answered before

    @property
    def outcome(self) -> Outcome:
        if self.intent == OUT_OF_SCOPE:
            return "out_of_scope"
        if self.intent == NLU_FALLBACK or CORE_FALLBACK_ACTION in self.actions:
            return "fallback"
        return "answered"

    @property
    def is_button(self) -> bool:
        """A button click: the message is its payload ("/ask_team_roles"), not typed text."""
        return self.text.startswith("/")


@dataclass
class Conversation:
    sender_id: str
    started: float
    turns: list[Turn] = field(default_factory=list)

    @property
    def channel(self) -> str | None:
        return self.turns[0].channel if self.turns else None


def _turn(event: StoredEvent) -> Turn:
    data = event.data
    parse_data: dict[str, Any] = data.get("parse_data") or {}
    ranking = tuple(
        (entry["name"], float(entry.get("confidence") or 0.0))
        for entry in parse_data.get("intent_ranking") or ()
        if entry.get("name")
    )
    return Turn(
        timestamp=event.timestamp,
        text=data.get("text") or "",
        intent=(parse_data.get("intent") or {}).get("name"),
        channel=data.get("input_channel"),
        ranking=ranking,
    )


def conversations(events: Iterable[StoredEvent]) -> list[Conversation]:
    """The conversations with at least one user message, from events grouped by sender in stored order."""
    result: list[Conversation] = []
    sender: str | None = None
    current: Conversation | None = None
    turn: Turn | None = None  # the turn in progress, until the next action_listen
    acted = False  # whether an action has run in the turn in progress (slot extraction is over)
    last_topic: str | None = None  # the last topic answered to this sender

    def close() -> None:
        if current is not None and current.turns:
            result.append(current)

    for event in events:
        if event.sender_id != sender:
            close()
            sender, current, turn, last_topic = event.sender_id, None, None, None
        kind = event.type_name
        if kind == "session_started":
            close()
            current, turn = Conversation(event.sender_id, event.timestamp), None
        elif kind == "restart":
            # The tracker forgets everything, the topic too, but the session goes on: Rasa logs no new
            # session start, and the purge deletes the session whole.
            turn, last_topic = None, None
        elif kind == "user":
            if current is None:  # stored without a session start
                current = Conversation(event.sender_id, event.timestamp)
            turn, acted = _turn(event), False
            current.turns.append(turn)
        elif kind == "action" and turn is not None:
            if event.data.get("name") == "action_listen":
                turn = None
            else:
                turn.actions.append(event.data.get("name") or "")
                acted = True
        elif kind == "slot" and turn is not None:
            name, value = event.data.get("name"), event.data.get("value")
            if name == "topic" and value and (acted or value == turn.intent):
                turn.topic = last_topic = value
            elif name == "feedback" and value in FEEDBACK_VALUES:
                turn.feedback, turn.feedback_topic = value, last_topic
    close()
    return result
