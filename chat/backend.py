"""Starts (or reuses) the action server and a Rasa server for the chat, quietly: their output goes to
var/log/chat-*.log, the terminal only sees one « Chargement du modèle… » line (everything with --debug)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import settings
from chat.client import Assistant

REPO = Path(__file__).resolve().parents[1]
RASA = Path(sys.executable).parent / "rasa"
LOG_DIR = REPO / "var" / "log"
# Time given to a server to end after SIGTERM before SIGKILL: the user waits for it, and nothing is lost by
# killing the servers (every turn was already written to the tracker store).
STOP_TIMEOUT_S = 5


class BackendFailed(Exception):
    """A server could not start; the message (French) says where its log is."""


@dataclass
class Backend:
    rasa_url: str
    debug: bool = False
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        """Stops the servers this chat started (never one it reused), each with its children."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self.processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except (urllib.error.URLError, OSError):
        return False


def _spawn(backend: Backend, command: list[str], log_name: str, env: dict[str, str]) -> subprocess.Popen:
    log: TextIO | None = None
    if not backend.debug:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = (LOG_DIR / log_name).open("a", encoding="utf-8")
    try:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT if log else None,
            # Its own process group: Ctrl-C in the terminal reaches the chat only, which then stops it.
            start_new_session=True,
        )
    finally:
        if log is not None:
            log.close()
    backend.processes.append(process)
    return process


def _wait(
    ready: Callable[[], bool],
    process: subprocess.Popen | None,
    what: str,
    log_name: str,
    progress: Callable[[float | None], None],
) -> None:
    started = time.monotonic()
    while not ready():
        if process is not None and process.poll() is not None:
            raise BackendFailed(f"{what} s'est arrêté au démarrage\u00a0: voir var/log/{log_name}.")
        progress(time.monotonic() - started)
        time.sleep(0.5)


def start(rasa_url: str | None, debug: bool, status: TextIO) -> Backend:
    """The servers the chat talks to; a `rasa_url` given is used as is (it must serve the terminal
    channel)."""
    configured = settings.with_defaults(os.environ)  # the same defaults as scripts/run.sh's
    env = {name: configured[name] for name in ("ACTION_SERVER_URL", "BIENVENUE_TRACKER_DB")}
    backend = Backend(rasa_url=rasa_url or "", debug=debug)
    progress = _progress_line(status, updated=status.isatty() and not debug)
    try:
        actions = None
        if rasa_url is None:
            actions = _start_action_server(backend, env["ACTION_SERVER_URL"])
            port = free_port()
            backend.rasa_url = f"http://127.0.0.1:{port}"
            Path(REPO / env["BIENVENUE_TRACKER_DB"]).parent.mkdir(parents=True, exist_ok=True)
            rasa = _spawn(
                backend,
                [
                    str(RASA),
                    "run",
                    "--model",
                    "models",
                    "--endpoints",
                    "endpoints.yml",
                    "--credentials",
                    "chat/credentials.yml",
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                "chat-rasa.log",
                env,
            )
            _wait(Assistant(backend.rasa_url).is_ready, rasa, "Le serveur Rasa", "chat-rasa.log", progress)
        else:
            _wait(Assistant(rasa_url).is_ready, None, "", "", progress)
        if actions is not None:
            health = _health_url(env["ACTION_SERVER_URL"])
            _wait(lambda: _answers(health), actions, "Le serveur d'actions", "chat-actions.log", progress)
    except BaseException:
        backend.stop()
        raise
    finally:
        progress(None)
    return backend


def _health_url(action_server_url: str) -> str:
    parts = urllib.parse.urlsplit(action_server_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/health", "", ""))


def _start_action_server(backend: Backend, action_server_url: str) -> subprocess.Popen | None:
    """Reuses the action server that answers at ACTION_SERVER_URL (`make run`'s), or starts one there."""
    if _answers(_health_url(action_server_url)):
        return None
    port = urllib.parse.urlsplit(action_server_url).port or settings.value("ACTIONS_PORT")
    return _spawn(
        backend,
        [str(RASA), "run", "actions", "--port", str(port)],
        "chat-actions.log",
        # As scripts/run.sh: loopback only, and patience with a busy Rasa server's requests.
        {"SANIC_HOST": "127.0.0.1", "SANIC_KEEP_ALIVE_TIMEOUT": "120"},
    )


def _progress_line(status: TextIO, updated: bool) -> Callable[[float | None], None]:
    """Shows « Chargement du modèle… » once, `updated` with the seconds elapsed (on a terminal the servers'
    logs do not write to); None clears it."""
    shown = False
    interactive = updated

    def progress(elapsed: float | None) -> None:
        nonlocal shown
        if elapsed is None:
            if shown and interactive:
                status.write("\r\x1b[K")
                status.flush()
            return
        if interactive:
            status.write(f"\rChargement du modèle… {elapsed:.0f} s (Ctrl-C pour annuler)")
        elif not shown:
            status.write("Chargement du modèle…\n")
        shown = True
        status.flush()

    return progress
