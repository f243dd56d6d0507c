"""`make run`'s script starts everything, answers over REST, and Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from tests import servers


def test_run_script_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ports = {name: servers.free_port() for name in ("RASA_PORT", "ACTIONS_PORT", "WEB_PORT")}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()},
           "BIENVENUE_TRACKER_DB": str(tmp_path / "conversations.db")}
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        # Its own process group, like a terminal's foreground job, so that SIGINT reaches it as Ctrl-C does.
        run = subprocess.Popen(["scripts/run.sh"], cwd=servers.REPO, env=env, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + servers.STARTUP_TIMEOUT_S
        while "prête" not in log.read_text(encoding="utf-8"):
            assert run.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "run.sh never said it was ready"
            time.sleep(1)
        output = log.read_text(encoding="utf-8")
        assert f"http://localhost:{ports['WEB_PORT']}/" in output

        reply = requests.post(f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook",
                              json={"sender": "run-script", "message": "bonjour"}, timeout=120)
        assert "Bienvenue" in reply.json()[0]["text"]
        assert requests.get(f"http://127.0.0.1:{ports['WEB_PORT']}/", timeout=30).ok

        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(timeout=120) is not None
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    for port in ports.values():
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=5)
            raise AssertionError(f"port {port} still answers after Ctrl-C")
        except requests.ConnectionError:
            pass
