"""Start and stop the real servers that integration tests talk to (Rasa, action server, ...).

Every server listens on a free loopback port, logs to results/logs/ and is stopped after use, even on failure.
Start-up waits are generous hang guards, never pass/fail criteria.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
LOG_DIR = REPO / "results" / "logs"
STARTUP_TIMEOUT_S = 600
# What every server started by the tests gets from the tests' own environment: enough to find programs and
# write temporary files, nothing else (no stray BIENVENUE_*, MATTERMOST_* or ACTION_SERVER_URL).
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONHASHSEED")
# Nothing leaves the machine: no usage statistics or error reports to Rasa's publisher.
BASE_ENV = {"RASA_TELEMETRY_ENABLED": "false"}


def server_environment(extra: dict[str, str]) -> dict[str, str]:
    """The minimal, explicit environment of a server: inherited basics, BASE_ENV, then the server's own."""
    inherited = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    return {**inherited, **BASE_ENV, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def latest_model() -> Path:
    models = sorted((REPO / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError("No trained model in models/: run `make train` first.")
    return models[-1]


@dataclass
class Server:
    name: str
    command: Sequence[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    stop_signal: signal.Signals = signal.SIGTERM
    process: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return LOG_DIR / f"{self.name}.log"

    @property
    def base_url(self) -> str:
        scheme, _, rest = self.ready_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    @property
    def webhook_url(self) -> str:
        """Where Rasa sends its calls, for an action server."""
        return f"{self.base_url}/webhook"

    def launch(self) -> Server:
        """Starts the process without waiting: servers launched together load in parallel."""
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO,
                env=server_environment(self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so that stop() also ends the server's children
            )
        return self

    def start(self) -> Server:
        self.launch()
        self.wait_ready()
        return self

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.ready_url, timeout=5):
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: see {self.log_path}")
            if self.is_ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {STARTUP_TIMEOUT_S} s: see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, self.stop_signal)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server.start()
    finally:
        server.stop()


@contextmanager
def running_together(*group: Server) -> Iterator[tuple[Server, ...]]:
    """Launches every server at once, then waits for each: independent start-ups overlap."""
    try:
        for server in group:
            server.launch()
        for server in group:
            server.wait_ready()
        yield group
    finally:
        for server in group:
            server.stop()


def action_server(port: int | None = None, name: str = "actions") -> Server:
    port = port or free_port()
    return Server(
        name=name,
        command=[str(VENV_BIN / "rasa"), "run", "actions", "--port", str(port)],
        ready_url=f"http://127.0.0.1:{port}/health",
        # As in run.sh: a busy Rasa server may take more than Sanic's default 5 s to send its request.
        env={"SANIC_HOST": "127.0.0.1", "SANIC_KEEP_ALIVE_TIMEOUT": "120"},
    )


def rasa_server(
    endpoints: Path,
    credentials: Path | None = None,
    port: int | None = None,
    name: str = "rasa",
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Server:
    port = port or free_port()
    command = [
        str(VENV_BIN / "rasa"), "run",
        "--model", str(latest_model()),
        "--endpoints", str(endpoints),
        "--credentials", str(credentials or REPO / "credentials.yml"),
        "--interface", "127.0.0.1",
        "--port", str(port),
        *extra_args,
    ]
    return Server(name=name, command=command, ready_url=f"http://127.0.0.1:{port}/", env=env or {})


def sqlite_endpoints(directory: Path, action_url: str, db_path: Path) -> Path:
    """Endpoints of the default profile (SQLite tracker store) pointing at a test action server."""
    path = directory / "endpoints.yml"
    path.write_text(
        f"action_endpoint:\n  url: {action_url}\n"
        "tracker_store:\n  type: stores.caching_sql.CachingSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db_path}\n",
        encoding="utf-8",
    )
    return path
