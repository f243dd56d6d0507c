"""Evaluates the trained model's intents on the held-out examples of tests/nlu_holdout/ (never trained on).

Prints the per-intent scores and fails when the overall accuracy is below the required minimum.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOLDOUT = REPO / "tests" / "nlu_holdout"
OUT = REPO / "results" / "nlu"
MIN_ACCURACY = 0.90


def format_report(report: dict) -> str:
    rows = [f"{'intent':32} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}"]
    for intent, scores in sorted(report.items()):
        if not isinstance(scores, dict) or "support" not in scores or intent.endswith(" avg"):
            continue
        rows.append(
            f"{intent:32} {scores['precision']:9.2f} {scores['recall']:7.2f} "
            f"{scores['f1-score']:6.2f} {scores['support']:4d}"
        )
    return "\n".join(rows)


def main() -> int:
    subprocess.run(
        [str(REPO / ".venv/bin/rasa"), "test", "nlu", "--model", str(REPO / "models"),
         "--nlu", str(HOLDOUT), "--out", str(OUT)],
        cwd=REPO, check=True,
    )
    report = json.loads((OUT / "intent_report.json").read_text(encoding="utf-8"))
    accuracy = report["accuracy"]
    print(format_report(report))
    print(f"\nintent accuracy on the held-out set: {accuracy:.3f} (minimum {MIN_ACCURACY:.2f})")
    errors = json.loads((OUT / "intent_errors.json").read_text(encoding="utf-8"))
    for error in errors:
        print(f"  ✗ {error['text']!r}: expected {error['intent']}, got {error['intent_prediction']['name']}")
    return 0 if accuracy >= MIN_ACCURACY else 1


if __name__ == "__main__":
    sys.exit(main())
