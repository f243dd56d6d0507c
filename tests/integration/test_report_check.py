"""`make unanswered-check` with the trained model on the export of a generated store: every exported question
is found in the store and classified on the message as typed, and shown masked only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from reports.privacy import SECRET_ENV
from tests import servers
from tests.unit import report_data


def run_reports(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reports", *args], cwd=servers.REPO,
        env={**os.environ, SECRET_ENV: "a key for the report tests, 32 b", "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True, text=True, timeout=1200,
    )


def test_the_check_classifies_the_stored_messages_and_shows_them_masked(tmp_path: Path) -> None:
    db = tmp_path / "conversations.db"
    writer = report_data.sqlite_store(str(db))
    report_data.write_conversations(writer)
    writer.engine.dispose()
    url = f"sqlite:///{db}"
    out = tmp_path / "report"
    assert run_reports("report", "--db-url", url, "--out", str(out)).returncode == 0

    models = tmp_path / "models"
    models.mkdir()
    (models / "model.tar.gz").symlink_to(servers.latest_model())
    done = run_reports(
        "unanswered-check", "--db-url", url, "--file", str(out / "unanswered.yml"), "--models", str(models)
    )
    assert done.returncode == 0, done.stderr
    assert "7 questions sur 7 retrouvées dans la base" in done.stdout
    assert report_data.PERSONAL_MASKED in done.stdout
    assert "jean.dupont" not in done.stdout + done.stderr and "06 12 34 56 78" not in done.stdout
    assert "7 questions :" in done.stdout
