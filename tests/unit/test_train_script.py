"""scripts/train.sh retrains exactly when what Rasa reads changed: data, domain, config or pipeline code."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Stands in for Rasa: writes a model and counts its calls (training itself is tested by `make train`).
FAKE_RASA = """#!/usr/bin/env bash
echo trained >> calls.log
mkdir -p models && echo model > models/bienvenue.tar.gz
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "train.sh", tmp_path / "scripts" / "train.sh")
    for name, text in {"config.yml": "pipeline: []\n", "domain.yml": "intents: []\n",
                       "data/nlu/a.yml": "nlu: []\n", "pipeline/a.py": "X = 1\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    rasa = tmp_path / ".venv" / "bin" / "rasa"
    rasa.parent.mkdir(parents=True)
    rasa.write_text(FAKE_RASA)
    rasa.chmod(rasa.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def run(root: Path) -> subprocess.CompletedProcess:
    # Its own lock: the machine's may be held by a real training.
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(root / "cache"),
           "BIENVENUE_TRAIN_LOCK": str(root / "lock")}
    return subprocess.run(["bash", "scripts/train.sh"], cwd=root, capture_output=True, env=env)


def trainings(root: Path) -> int:
    run(root).check_returncode()
    log = root / "calls.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_trains_once_then_only_when_something_read_by_rasa_changes(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert trainings(root) == 1
    assert trainings(root) == 1  # up to date
    (root / "data" / "nlu" / "a.yml").touch()
    assert trainings(root) == 1  # a newer date, the same content
    (root / "pipeline" / "a.py").write_text("X = 2\n")
    assert trainings(root) == 2
    (root / "data" / "nlu" / "b.yml").write_text("nlu: []\n")
    assert trainings(root) == 3


def test_a_failed_training_leaves_no_fingerprint(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / ".venv" / "bin" / "rasa").write_text("#!/usr/bin/env bash\nexit 1\n")
    assert run(root).returncode != 0
    assert not (root / "models" / "bienvenue.fingerprint").exists()
