"""Runs `rasa data validate` and fails on any warning, except the responses that custom actions dispatch.

Rasa cannot see the responses that actions send by name (utter_<topic>_details, the incubator finder's
templates, …) nor utter_default (sent by its own action_default_fallback), so it reports them as unused.
Every other warning fails this check.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
UNUSED_UTTERANCE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")
WARNING = re.compile(r"UserWarning: (.*)")


def responses_sent_by_actions() -> set[str]:
    code = "\n".join(path.read_text(encoding="utf-8") for path in (REPO / "actions").glob("*.py"))
    named = set(re.findall(r"\"(utter_\w+)\"", code))
    topics = yaml.safe_load((REPO / "content" / "topics.yml").read_text(encoding="utf-8"))["topics"]
    return named | {f"utter_{topic}_details" for topic in topics} | {"utter_default"}


def main() -> int:
    run = subprocess.run(
        [str(REPO / ".venv/bin/rasa"), "data", "validate", "--fail-on-warnings"],
        cwd=REPO, capture_output=True, text=True,
    )
    allowed = responses_sent_by_actions()
    problems = []
    for message in WARNING.findall(run.stdout + run.stderr):
        unused = UNUSED_UTTERANCE.search(message)
        if not (unused and unused.group(1) in allowed):
            problems.append(message)
    for problem in problems:
        print(f"✗ {problem}")
    print(f"rasa data validate: exit {run.returncode}, {len(problems)} warning(s) not explained by actions")
    return 1 if run.returncode or problems else 0


if __name__ == "__main__":
    sys.exit(main())
