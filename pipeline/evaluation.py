"""Shared by tests/nlu_evaluation.py and scripts/calibrate_out_of_domain.py: parse messages with a trained
model, replay the abstention rules (fallback thresholds, out-of-domain guard) at other settings, and
measure accuracy on topic questions and wrong answers on questions no topic covers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.similarity import FALLBACK_INTENT, OUT_OF_SCOPE_INTENT, guard_verdict, is_noise

ABSTENTIONS = frozenset({FALLBACK_INTENT, OUT_OF_SCOPE_INTENT})
# As configured for the guard (config.yml's entity_intents, here at its default).
ENTITY_INTENTS = frozenset({"inform_administration", "ask_incubator_list"})


@dataclass(frozen=True)
class Settings:
    fallback_threshold: float
    ambiguity_threshold: float
    guard_threshold: float
    guard_margin: float
    max_unknown_share: float = 1.0


def load_nlu_examples(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(text, intent) of every example in Rasa NLU files, entity annotations removed."""
    from rasa.shared.nlu.training_data.loading import load_data

    pairs = []
    for path in paths:
        for message in load_data(str(path)).intent_examples:
            pairs.append((message.get("text"), message.get("intent")))
    return pairs


def parse_all(model: Path, texts: Sequence[str]) -> list[dict[str, Any]]:
    """The model's parse of each text (intent, ranking, entities, out-of-domain scores)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse() -> list[dict[str, Any]]:
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(parse())


def replay(parse: dict[str, Any], settings: Settings, unguarded: frozenset[str] = ABSTENTIONS) -> str:
    """The final intent the pipeline would give this parse with other thresholds.

    Needs parses made with the fallback thresholds at or below `settings` (the guard's scores are
    recorded whatever it decided).
    """
    ranking = [entry for entry in parse.get("intent_ranking") or [] if entry["name"] != FALLBACK_INTENT]
    if not ranking:
        return FALLBACK_INTENT
    top = ranking[0]
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    unsure = top["confidence"] < settings.fallback_threshold
    if unsure or top["confidence"] - second < settings.ambiguity_threshold:
        return FALLBACK_INTENT
    scores = parse.get("out_of_domain")
    if top["name"] in unguarded:
        return top["name"]
    if is_noise(parse.get("text") or ""):
        return OUT_OF_SCOPE_INTENT
    if not scores or scores["intent"] != top["name"]:
        return top["name"]
    if top["name"] in ENTITY_INTENTS and parse.get("entities"):
        return top["name"]
    best = {top["name"]: scores["similarity"], OUT_OF_SCOPE_INTENT: scores["out_of_scope_similarity"]}
    verdict = guard_verdict(top["name"], best, settings.guard_threshold, settings.guard_margin,
                            scores.get("unknown_share"), settings.max_unknown_share)
    return verdict or top["name"]


def accuracy(expected: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of right intents; for an out-of-scope example, any abstention is right."""
    right = sum(
        want == got or (want == OUT_OF_SCOPE_INTENT and got in ABSTENTIONS)
        for want, got in zip(expected, predicted, strict=True)
    )
    return right / max(len(expected), 1)


def wrong_answer_rate(predicted: Sequence[str], topics: set[str]) -> float:
    """Share of messages no topic covers that got a topic's answer."""
    return sum(intent in topics for intent in predicted) / max(len(predicted), 1)
