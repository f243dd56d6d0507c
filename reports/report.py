"""The report: figures, unanswered questions and privacy, put together and written to results/report/."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reports.conversations import Conversation
from reports.figures import channel_label, figures
from reports.html import page
from reports.unanswered import Group, group_messages, nlu_yaml, normalise, unanswered_messages

DEFAULT_OUT_DIR = Path("results/report")
DEFAULT_TIMEZONE = "Europe/Paris"


def topic_labels() -> dict[str, str]:
    """Topic intent -> the French label the content team wrote in content/topics.yml."""
    from actions.content import get_content

    return {topic.id: topic.label for topic in get_content().topics.values()}


def _group_json(group: Group, labels: Mapping[str, str], tz: ZoneInfo) -> dict[str, Any]:
    guess = group.guessed_topic
    return {
        "count": group.count,
        "conversations": group.conversations,
        "out_of_scope": group.out_of_scope,
        "guessed_topic": (
            {"topic": guess[0], "label": labels.get(guess[0], guess[0]), "confidence": guess[1]}
            if guess
            else None
        ),
        "questions": [{"text": text, "count": count} for text, count in group.questions],
        "messages": [
            {
                "conversation": message.conversation,
                "time": datetime.fromtimestamp(message.timestamp, tz).isoformat(timespec="minutes"),
                "channel": channel_label(message.channel),
                "outcome": message.outcome,
                "text": message.text,
            }
            for message in group.messages
        ],
    }


def build_report(
    conversations: Sequence[Conversation],
    *,
    key: bytes,
    labels: Mapping[str, str],
    known_examples: Collection[str],
    tz: ZoneInfo,
    generated_at: datetime,
    retention_days: int,
    since: float | None = None,
) -> tuple[dict[str, Any], list[Group]]:
    """report.json's content, and the groups of unanswered questions not yet in the training data.

    With `since` (a Unix time), only the conversations started from then on count.
    """
    if since is not None:
        conversations = [conversation for conversation in conversations if conversation.started >= since]
    messages = unanswered_messages(conversations, key, labels.keys())
    new_messages = [message for message in messages if normalise(message.text) not in known_examples]
    groups = group_messages(new_messages)
    figures_ = figures(conversations, tz, labels)
    days = figures_["per_day"]
    report = {
        "generated_at": generated_at.astimezone(tz).isoformat(timespec="minutes"),
        "timezone": tz.key,
        "period": {"from": days[0]["date"] if days else None, "to": days[-1]["date"] if days else None},
        "retention_days": retention_days,
        **figures_,
        "unanswered": {
            "messages": len(new_messages),
            "already_in_training_data": len(messages) - len(new_messages),
            "groups": [_group_json(group, labels, tz) for group in groups],
        },
    }
    return report, groups


def write_report(
    report: dict[str, Any], groups: Sequence[Group], labels: Mapping[str, str], out_dir: Path
) -> dict[str, Path]:
    """report.json, report.html and unanswered.yml in `out_dir`; their paths by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / name for name in ("report.html", "report.json", "unanswered.yml")}
    paths["report.json"].write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["report.html"].write_text(page(report), encoding="utf-8")
    paths["unanswered.yml"].write_text(
        nlu_yaml(groups, dict(labels), report["generated_at"][:10]), encoding="utf-8"
    )
    return paths
