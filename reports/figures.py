"""The report's figures, computed from conversations: plain data, written as is to report.json."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reports.conversations import Conversation, Turn

# input_channel values (Rasa channel names) as the content team knows them.
CHANNEL_LABELS = {
    "socketio": "Page web",
    "rest": "API REST",
    "mattermost": "Mattermost",
    "tchap": "Tchap",
    "cmdline": "Terminal",
}
UNKNOWN_CHANNEL = "inconnu"


def channel_label(channel: str | None) -> str:
    return CHANNEL_LABELS.get(channel or "", channel or UNKNOWN_CHANNEL)


def local_day(timestamp: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(timestamp, tz).date()


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def per_day(
    conversations: Sequence[Conversation], tz: ZoneInfo, span: tuple[date, date] | None = None
) -> list[dict[str, Any]]:
    """One row per day of `span` (first and last day), else from the first to the last active day, quiet days
    included (with zeros, and no rate: there was nothing to divide).

    Rates are shares of the typed messages: button clicks are never misunderstood, so counting them would
    hide how often typed questions are.
    """
    rows: dict[date, Counter[str]] = defaultdict(Counter)
    for conversation in conversations:
        rows[local_day(conversation.started, tz)]["conversations"] += 1
        for turn in conversation.turns:
            counts = rows[local_day(turn.timestamp, tz)]
            counts["user_messages"] += 1
            counts["typed_messages"] += not turn.is_button
            counts[turn.outcome] += 1
    if span is None and not rows:
        return []
    first, last = span or (min(rows), max(rows))
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    return [
        {
            "date": day.isoformat(),
            "conversations": rows[day]["conversations"],
            "user_messages": rows[day]["user_messages"],
            "typed_messages": rows[day]["typed_messages"],
            "fallback": rows[day]["fallback"],
            "out_of_scope": rows[day]["out_of_scope"],
            "fallback_rate": _rate(rows[day]["fallback"], rows[day]["typed_messages"]),
            "out_of_scope_rate": _rate(rows[day]["out_of_scope"], rows[day]["typed_messages"]),
        }
        for day in days
    ]


def _turns(conversations: Sequence[Conversation]) -> list[Turn]:
    return [turn for conversation in conversations for turn in conversation.turns]


def topics(conversations: Sequence[Conversation], labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Per topic: times answered and the 👍 / 👎 received after its answer; most answered first."""
    turns = _turns(conversations)
    answers = Counter(turn.topic for turn in turns if turn.topic and turn.outcome == "answered")
    feedback = Counter((turn.feedback_topic, turn.feedback) for turn in turns if turn.feedback)
    names = set(answers) | {topic for topic, _ in feedback if topic}
    rows = [
        {
            "topic": name,
            "label": labels.get(name, name),
            "answers": answers[name],
            "positive": feedback[(name, "positive")],
            "negative": feedback[(name, "negative")],
        }
        for name in names
    ]
    return sorted(rows, key=lambda row: (-row["answers"], row["topic"]))


def channels(conversations: Sequence[Conversation]) -> list[dict[str, Any]]:
    """Per channel: conversations (by their first message's channel) and user messages; biggest first."""
    conversation_counts = Counter(conversation.channel for conversation in conversations)
    message_counts = Counter(turn.channel for turn in _turns(conversations))
    rows = [
        {
            "channel": channel or UNKNOWN_CHANNEL,
            "label": channel_label(channel),
            "conversations": conversation_counts[channel],
            "user_messages": message_counts[channel],
        }
        for channel in set(conversation_counts) | set(message_counts)
    ]
    return sorted(rows, key=lambda row: (-row["conversations"], -row["user_messages"], row["channel"]))


def totals(conversations: Sequence[Conversation]) -> dict[str, Any]:
    turns = _turns(conversations)
    typed = sum(not turn.is_button for turn in turns)
    outcomes = Counter(turn.outcome for turn in turns)
    feedback = Counter(turn.feedback for turn in turns if turn.feedback)
    lengths = [len(conversation.turns) for conversation in conversations]
    return {
        "conversations": len(conversations),
        "senders": len({conversation.sender_id for conversation in conversations}),
        "user_messages": len(turns),
        "typed_messages": typed,
        "fallback": outcomes["fallback"],
        "out_of_scope": outcomes["out_of_scope"],
        "fallback_rate": _rate(outcomes["fallback"], typed),
        "out_of_scope_rate": _rate(outcomes["out_of_scope"], typed),
        "feedback_positive": feedback["positive"],
        "feedback_negative": feedback["negative"],
        "median_conversation_length": statistics.median(lengths) if lengths else None,
    }


def conversation_lengths(conversations: Sequence[Conversation]) -> dict[str, int]:
    """How many conversations had 1, 2, 3… user messages (JSON keys are strings)."""
    counts = Counter(len(conversation.turns) for conversation in conversations)
    return {str(length): counts[length] for length in sorted(counts)}


def figures(
    conversations: Sequence[Conversation],
    tz: ZoneInfo,
    topic_labels: Mapping[str, str],
    span: tuple[date, date] | None = None,
) -> dict[str, Any]:
    return {
        "totals": totals(conversations),
        "per_day": per_day(conversations, tz, span),
        "topics": topics(conversations, topic_labels),
        "channels": channels(conversations),
        "conversation_lengths": conversation_lengths(conversations),
    }
