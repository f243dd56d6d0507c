"""The report: figures, unanswered questions, probably wrong answers and privacy, put together and written
to results/report/."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reports.conversations import Conversation
from reports.figures import channel_label, figures
from reports.html import page
from reports.unanswered import (
    Group,
    Quoted,
    UnansweredGroup,
    group_messages,
    nlu_yaml,
    normalise,
    unanswered_messages,
)
from reports.wrong import LOW_CONFIDENCE, REPHRASE_SECONDS, WrongGroup, wrong_answers, wrong_yaml

DEFAULT_OUT_DIR = Path("results/report")
DEFAULT_TIMEZONE = "Europe/Paris"


def topic_labels() -> dict[str, str]:
    """Topic intent -> the French label the content team wrote in content/topics.yml."""
    from actions.content import get_content

    return {topic.id: topic.label for topic in get_content().topics.values()}


def _quoted_json(message: Quoted, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "conversation": message.conversation,
        "person": message.person,
        "time": datetime.fromtimestamp(message.timestamp, tz).isoformat(timespec="minutes"),
        "channel": channel_label(message.channel),
        "text": message.text,
    }


def _topic_json(topic: str, confidence: float, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"topic": topic, "label": labels.get(topic, topic), "confidence": confidence}


def _group_json(group: Group[Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "count": group.count,
        "conversations": group.conversations,
        "people": group.people,
        "questions": [{"text": text, "count": count} for text, count in group.questions],
        "messages": [_quoted_json(message, tz) for message in group.messages],
    }


def _unanswered_json(group: UnansweredGroup, labels: Mapping[str, str], tz: ZoneInfo) -> dict[str, Any]:
    result = _group_json(group, tz)
    guess = group.guessed_topic
    result["out_of_scope"] = group.out_of_scope
    result["guessed_topic"] = _topic_json(*guess, labels) if guess else None
    for message, row in zip(group.messages, result["messages"], strict=True):
        row["outcome"] = message.outcome
    return result


def _wrong_json(group: WrongGroup, labels: Mapping[str, str], tz: ZoneInfo) -> dict[str, Any]:
    result = _group_json(group, tz)
    result["answered_topic"] = _topic_json(*group.answered_topic, labels)
    result["reasons"] = group.reasons
    for message, row in zip(group.messages, result["messages"], strict=True):
        row |= {
            "topic": message.topic,
            "confidence": message.confidence,
            "reasons": list(message.reasons),
            "next_text": message.next_text,
        }
    return result


@dataclass
class Report:
    """report.json's content, and the groups its exports are written from."""

    content: dict[str, Any]
    unanswered: list[UnansweredGroup]
    wrong: list[WrongGroup]


def requested_period(generated_at: datetime, days: int, tz: ZoneInfo) -> tuple[date, date]:
    """The last `days` calendar days, today included: DAYS=7 on 30/11 is 24/11 to 30/11."""
    today = generated_at.astimezone(tz).date()
    return today - timedelta(days=days - 1), today


def build_report(
    conversations: Sequence[Conversation],
    *,
    key: bytes,
    labels: Mapping[str, str],
    known_examples: Collection[str],
    tz: ZoneInfo,
    generated_at: datetime,
    retention_days: int,
    days: int | None = None,
) -> Report:
    """The report, on every conversation or, with `days`, on those started in the last `days` calendar days.

    Unanswered questions already in the training data are left out: they have been labelled.
    """
    span = requested_period(generated_at, days, tz) if days else None
    if span is not None:
        since = datetime.combine(span[0], time(), tz).timestamp()
        conversations = [conversation for conversation in conversations if conversation.started >= since]
    messages = unanswered_messages(conversations, key, labels.keys())
    new_messages = [message for message in messages if normalise(message.text) not in known_examples]
    unanswered = group_messages(new_messages, group_type=UnansweredGroup)
    wrong_messages = wrong_answers(conversations, key, labels.keys())
    wrong = group_messages(wrong_messages, group_type=WrongGroup)
    figures_ = figures(conversations, tz, labels, span)
    days_ = figures_["per_day"]
    content = {
        "generated_at": generated_at.astimezone(tz).isoformat(timespec="minutes"),
        "timezone": tz.key,
        "period": {
            "from": days_[0]["date"] if days_ else None,
            "to": days_[-1]["date"] if days_ else None,
            "requested_days": days,
        },
        "retention_days": retention_days,
        **figures_,
        "unanswered": {
            "messages": len(new_messages),
            "already_in_training_data": len(messages) - len(new_messages),
            "groups": [_unanswered_json(group, labels, tz) for group in unanswered],
        },
        "wrong_answers": {
            "messages": len(wrong_messages),
            "low_confidence_below": LOW_CONFIDENCE,
            "rephrase_within_seconds": REPHRASE_SECONDS,
            "groups": [_wrong_json(group, labels, tz) for group in wrong],
        },
    }
    return Report(content, unanswered, wrong)


REPORT_FILES = ("report.html", "report.json", "unanswered.yml", "wrong_answers.yml")


def write_report(report: Report, labels: Mapping[str, str], out_dir: Path) -> dict[str, Path]:
    """The report's files in `out_dir`, each replaced whole (written aside, then renamed); their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    generated_on = report.content["generated_at"][:10]
    texts = {
        "report.json": json.dumps(report.content, ensure_ascii=False, indent=2) + "\n",
        "report.html": page(report.content),
        "unanswered.yml": nlu_yaml(report.unanswered, labels, generated_on),
        "wrong_answers.yml": wrong_yaml(report.wrong, labels, generated_on),
    }
    paths = {}
    for name in REPORT_FILES:
        paths[name] = out_dir / name
        partial = out_dir / f".{name}.partial"
        partial.write_text(texts[name], encoding="utf-8")
        partial.replace(paths[name])
    return paths
