"""Evaluates the trained model on messages it never saw in training, as the assistant will answer them
(after the fallback classifier and the out-of-domain guard):

- intent accuracy on the held-out topic questions of tests/nlu_holdout/ (for an out-of-scope example,
  any abstention is right);
- the wrong-answer rate on tests/out_of_domain.yml, questions no topic covers: a message is wrongly
  answered when its final intent is a topic.

Prints both, the misses, and the same two figures at other confidence thresholds (for the README's curve; the
operating point itself comes from scripts/calibrate_out_of_domain.py, on training data only). Writes
results/nlu/evaluation.json.

The suite fails below issue 11's targets (92 % accuracy, at most 5 % wrong answers), reached on
30 Nov 2026 (README, « Savoir se taire »): a data or pipeline change may not give them up.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.evaluation import (  # noqa: E402
    Settings,
    accuracy,
    load_nlu_examples,
    parse_all,
    replay,
    wrong_answer_rate,
)

HOLDOUT = REPO / "tests" / "nlu_holdout"
OUT_OF_DOMAIN = REPO / "tests" / "out_of_domain.yml"
OUT = REPO / "results" / "nlu"
TARGET_ACCURACY = 0.92
TARGET_WRONG_ANSWERS = 0.05
CURVE_THRESHOLDS = [0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6]


def newest_model() -> Path:
    models = sorted((REPO / "models").glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if not models:
        raise SystemExit("no trained model in models/: run scripts/train.sh first")
    return models[-1]


def configured_settings() -> Settings:
    pipeline = {c["name"].rsplit(".", 1)[-1]: c
                for c in yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))["pipeline"]}
    fallback, guard = pipeline["FallbackClassifier"], pipeline["OutOfDomainGuard"]
    return Settings(fallback["threshold"], fallback["ambiguity_threshold"],
                    guard["threshold"], guard["margin"], guard["max_unknown_share"])


def topic_intents() -> set[str]:
    return set(yaml.safe_load((REPO / "content" / "topics.yml").read_text(encoding="utf-8"))["topics"])


def main() -> int:
    holdout = load_nlu_examples(sorted(HOLDOUT.glob("*.yml")))
    outside = yaml.safe_load(OUT_OF_DOMAIN.read_text(encoding="utf-8"))["messages"]
    texts = [text for text, _ in holdout] + outside
    parses = parse_all(newest_model(), texts)
    holdout_parses, outside_parses = parses[: len(holdout)], parses[len(holdout):]
    expected = [intent for _, intent in holdout]
    predicted = [parse["intent"]["name"] for parse in holdout_parses]
    answered = [parse["intent"]["name"] for parse in outside_parses]
    topics = topic_intents()

    totals, right = Counter(expected), Counter()
    for want, got in zip(expected, predicted, strict=True):
        right[want] += accuracy([want], [got]) == 1.0
    print(f"{'intent':32} {'recall':>6} {'n':>4}")
    for intent in sorted(totals):
        print(f"{intent:32} {right[intent] / totals[intent]:6.2f} {totals[intent]:4d}")
    for (text, want), got in zip(holdout, predicted, strict=True):
        if accuracy([want], [got]) < 1.0:
            print(f"  ✗ {text!r}: expected {want}, got {got}")
    for text, got in zip(outside, answered, strict=True):
        if got in topics:
            print(f"  ✗ out of domain {text!r}: answered with {got}")

    settings = configured_settings()
    print(f"\nguard: threshold {settings.guard_threshold}, margin {settings.guard_margin}, "
          f"max unknown share {settings.max_unknown_share}; ambiguity {settings.ambiguity_threshold}")
    print("confidence threshold  accuracy (held-out)  wrong answers (out-of-domain)")
    curve = []
    for threshold in CURVE_THRESHOLDS:
        replayed = replace(settings, fallback_threshold=threshold)
        point = {
            "fallback_threshold": threshold,
            "accuracy": accuracy(expected, [replay(p, replayed) for p in holdout_parses]),
            "wrong_answers": wrong_answer_rate([replay(p, replayed) for p in outside_parses], topics),
        }
        curve.append(point)
        marker = "  ← configured" if threshold == settings.fallback_threshold else ""
        print(f"{threshold:20.2f}  {point['accuracy']:19.3f}  {point['wrong_answers']:29.3f}{marker}")

    held_accuracy = accuracy(expected, predicted)
    wrong = wrong_answer_rate(answered, topics)
    print(f"\nintent accuracy on the held-out set: {held_accuracy:.3f} on {len(holdout)} messages "
          f"(target {TARGET_ACCURACY:.2f}: {verdict(held_accuracy >= TARGET_ACCURACY)})")
    print(f"wrong answers on the out-of-domain set: {wrong:.3f} on {len(outside)} messages "
          f"(target {TARGET_WRONG_ANSWERS:.2f}: {verdict(wrong <= TARGET_WRONG_ANSWERS)})")
    OUT.mkdir(parents=True, exist_ok=True)
    saved = {"holdout": holdout, "out_of_domain": outside, "parses": parses}
    (OUT / "parses.json").write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
    (OUT / "evaluation.json").write_text(json.dumps({
        "accuracy": held_accuracy, "wrong_answers": wrong, "holdout_size": len(holdout),
        "out_of_domain_size": len(outside), "settings": settings.__dict__, "curve": curve,
    }, indent=2), encoding="utf-8")
    return 0 if held_accuracy >= TARGET_ACCURACY and wrong <= TARGET_WRONG_ANSWERS else 1


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


if __name__ == "__main__":
    sys.exit(main())
