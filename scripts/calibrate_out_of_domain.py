"""Precision/coverage curve of the abstention rules, measured on a fold of the training data.

Every FOLD-th example of each intent (out-of-scope included) is set aside, an NLU model is trained on the
rest with every abstention rule disabled (its guard only records its scores), and the set-aside examples
are parsed. The rules are then replayed at each setting: coverage is the share of set-aside topic examples
answered with their topic, wrong answers the share of set-aside out-of-scope examples answered with a
topic. The held-out and out-of-domain test sets are never read here (tests/nlu_evaluation.py is).

Usage: .venv/bin/python scripts/calibrate_out_of_domain.py  (trains once, under the machine-wide lock)
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.evaluation import Settings, parse_all, replay  # noqa: E402
from pipeline.similarity import OUT_OF_SCOPE_INTENT  # noqa: E402

WORK = REPO / "results" / "out_of_domain"
FOLD = 5
FALLBACK_THRESHOLDS = [0.2, 0.25, 0.3, 0.45, 0.6, 0.7, 0.8]
AMBIGUITY_THRESHOLDS = [0.05, 0.1]
GUARD_THRESHOLDS = [0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]
GUARD_MARGINS = [0.0, 0.05, 0.1, 1.0]
# 2 turns the vocabulary check off (no share reaches it).
MAX_UNKNOWN_SHARES = [0.34, 0.5, 0.67, 1.0, 2.0]
# The accuracy budget: the operating point keeps at least this share of the topic questions that the most
# permissive setting answers right.
MIN_RELATIVE_COVERAGE = 0.97


def split() -> tuple[str, list[tuple[str, str]]]:
    """(the fold's training data as Rasa YAML, set-aside (text, intent) pairs).

    Every FOLD-th example of each intent is set aside; lookup tables and synonyms stay in training.
    """
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = load_data(str(REPO / "data" / "nlu"))
    kept, held = [], []
    counts: dict[str, int] = {}
    for message in data.intent_examples:
        intent = message.get("intent")
        counts[intent] = counts.get(intent, 0) + 1
        if counts[intent] % FOLD == 0:
            held.append((message.get("text"), intent))
        else:
            kept.append(message)
    fold = TrainingData(training_examples=kept, entity_synonyms=data.entity_synonyms,
                        regex_features=data.regex_features, lookup_tables=data.lookup_tables)
    return fold.nlu_as_yaml(), held


def recording_config() -> dict:
    """config.yml with the fallback classifier and the guard turned into recorders."""
    config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"] == "FallbackClassifier":
            component.update(threshold=0.0, ambiguity_threshold=0.0)
        if component["name"].endswith("OutOfDomainGuard"):
            component.update(threshold=-1.0, margin=10.0, max_unknown_share=10.0)
    return config


def train(training_yaml: str) -> Path:
    """Trains the fold's NLU model under the machine-wide training lock."""
    data = WORK / "fold_data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "nlu.yml").write_text(training_yaml, encoding="utf-8")
    (WORK / "config.yml").write_text(yaml.safe_dump(recording_config(), allow_unicode=True), encoding="utf-8")
    models = WORK / "models"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run(
        ["flock", "/tmp/bienvenue-train.lock", str(REPO / ".venv/bin/rasa"), "train", "nlu",
         "--nlu", str(data), "--config", str(WORK / "config.yml"), "--out", str(models),
         "--fixed-model-name", "fold"],
        cwd=REPO, env=env, check=True,
    )
    return models / "fold.tar.gz"


def topic_intents() -> set[str]:
    topics = yaml.safe_load((REPO / "content" / "topics.yml").read_text(encoding="utf-8"))["topics"]
    return set(topics)


def curve(parses: list[dict], intents: list[str], topics: set[str]) -> list[dict]:
    points = []
    grid = itertools.product(FALLBACK_THRESHOLDS, AMBIGUITY_THRESHOLDS, GUARD_THRESHOLDS, GUARD_MARGINS,
                             MAX_UNKNOWN_SHARES)
    for values in grid:
        settings = Settings(*values)
        predicted = [replay(parse, settings) for parse in parses]
        on_topic = [(want, got) for want, got in zip(intents, predicted, strict=True) if want in topics]
        outside = [got for want, got in zip(intents, predicted, strict=True) if want == OUT_OF_SCOPE_INTENT]
        points.append({
            **settings.__dict__,
            "coverage": sum(want == got for want, got in on_topic) / len(on_topic),
            "wrong_answers": sum(got in topics for got in outside) / len(outside),
        })
    return points


def operating_point(points: list[dict]) -> dict:
    """Fewest wrong answers among the points that keep MIN_RELATIVE_COVERAGE of the best coverage;
    ties: more coverage, then the stricter guard (it costs nothing here and may help on unseen messages)."""
    floor = MIN_RELATIVE_COVERAGE * max(point["coverage"] for point in points)
    eligible = [point for point in points if point["coverage"] >= floor]
    return min(eligible, key=lambda point: (point["wrong_answers"], -point["coverage"],
                                            -point["guard_threshold"], point["max_unknown_share"],
                                            point["fallback_threshold"]))


def main() -> int:
    training_yaml, held = split()
    model = train(training_yaml)
    texts, intents = [text for text, _ in held], [intent for _, intent in held]
    parses = parse_all(model, texts)
    (WORK / "parses.json").write_text(json.dumps({"intents": intents, "parses": parses}, ensure_ascii=False),
                                      encoding="utf-8")
    topics = topic_intents()
    points = curve(parses, intents, topics)
    print(f"set aside: {sum(i in topics for i in intents)} topic and "
          f"{intents.count(OUT_OF_SCOPE_INTENT)} out-of-scope examples")
    print(f"{'fallback':>8} {'ambig.':>6} {'guard':>5} {'margin':>6} {'unknown':>7} "
          f"{'coverage':>8} {'wrong':>6}")
    for point in points:
        print(f"{point['fallback_threshold']:8.2f} {point['ambiguity_threshold']:6.2f} "
              f"{point['guard_threshold']:5.2f} {point['guard_margin']:6.2f} "
              f"{point['max_unknown_share']:7.2f} "
              f"{point['coverage']:8.3f} {point['wrong_answers']:6.3f}")
    chosen = operating_point(points)
    print(f"\noperating point (≥ {MIN_RELATIVE_COVERAGE:.0%} of the best coverage, fewest wrong answers):")
    print(chosen)
    (WORK / "calibration.json").write_text(json.dumps({"points": points, "chosen": chosen}, indent=2),
                                           encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
