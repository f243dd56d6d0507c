"""unanswered-check: what the current model answers to each question of an NLU YAML file (by default the
exported unanswered questions), compared with the intent it was labelled with, if any.

The exports quote messages masked; the model must judge what the person typed, not "[e-mail masqué]". So each
question is classified on the stored message it was exported from (the one whose masked text it is), when the
conversation store still has it, and displayed masked.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.conversations import NLU_FALLBACK, OUT_OF_SCOPE, Conversation
from reports.privacy import mask_personal_data
from reports.unanswered import MIN_GUESS_CONFIDENCE, TO_LABEL

Parser = Callable[[str], dict[str, Any]]


def stored_texts(conversations: Iterable[Conversation]) -> dict[str, str]:
    """The stored messages by their masked text, as the exports quote them (the first one of each)."""
    result: dict[str, str] = {}
    for conversation in conversations:
        for turn in conversation.turns:
            result.setdefault(mask_personal_data(" ".join(turn.text.split())), turn.text)
    return result


@dataclass(frozen=True)
class Check:
    question: str  # masked, for display
    label: str | None  # the intent written in the file; None while the question is still to label
    predicted: str
    confidence: float
    # The topic the model ranks first, even below the fallback threshold (unless too low to mean anything).
    best_topic: tuple[str, float] | None

    @property
    def understood(self) -> bool:
        return self.predicted not in (NLU_FALLBACK, OUT_OF_SCOPE)


def check_questions(
    pairs: Sequence[tuple[str, str]],
    parse: Parser,
    topic_ids: Collection[str],
    originals: Mapping[str, str] | None = None,
) -> list[Check]:
    """Parse each (intent, question) pair's question with the model: its stored original from `originals`
    (masked text -> stored text) when there is one, else the question as written."""
    checks = []
    for intent, question in pairs:
        result = parse((originals or {}).get(question, question))
        intent_data = result.get("intent") or {}
        topics = [
            (entry["name"], round(float(entry["confidence"]), 2))
            for entry in result.get("intent_ranking") or ()
            if entry["name"] in topic_ids and entry["confidence"] >= MIN_GUESS_CONFIDENCE
        ]
        checks.append(
            Check(
                question=mask_personal_data(question),
                label=None if intent == TO_LABEL else intent,
                predicted=intent_data.get("name") or NLU_FALLBACK,
                confidence=round(float(intent_data.get("confidence") or 0.0), 2),
                best_topic=topics[0] if topics else None,
            )
        )
    return checks


def describe(checks: Sequence[Check]) -> str:
    """One line per question, then a summary, in French for the content team."""
    lines = []
    for check in checks:
        if check.label is not None:
            status = "OK       " if check.predicted == check.label else "DIFFÉRENT"
        else:
            status = "compris  " if check.understood else "secours  "
        answer = f"{check.predicted} ({check.confidence:.2f})"
        if not check.understood and check.best_topic:
            answer += f", meilleur sujet {check.best_topic[0]} ({check.best_topic[1]:.2f})"
        label = f" ; étiquette : {check.label}" if check.label else ""
        lines.append(f"{status} {check.question}\n          modèle : {answer}{label}")
    understood = sum(check.understood for check in checks)
    labelled = [check for check in checks if check.label is not None]
    agree = sum(check.predicted == check.label for check in labelled)
    lines.append(
        f"\n{len(checks)} questions : {understood} comprises par le modèle actuel, "
        f"{len(checks) - understood} toujours en secours ou hors sujet."
    )
    if labelled:
        lines.append(f"{len(labelled)} étiquetées, dont {agree} que le modèle attribue à leur étiquette.")
    return "\n".join(lines)


def latest_model(models_dir: Path) -> Path:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if not models:
        raise FileNotFoundError(f"aucun modèle dans {models_dir}/ : lancez `make train`")
    return models[-1]


def model_parser(model: Path) -> Parser:
    """The model's NLU, loaded once (about a minute); each call parses one message."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # read when TensorFlow loads: no C++ log lines
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Only the comparison on the terminal, not Rasa's debug log of every message.
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    return lambda text: loop.run_until_complete(agent.parse_message(text))
