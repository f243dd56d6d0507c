"""The terminal chat (`make chat`, python -m chat) driven through a pseudo-terminal, as a person would
type, against one real Rasa server serving the terminal channel (shared by the module) and the real action
server."""

from __future__ import annotations

import codecs
import errno
import fcntl
import json
import os
import pty
import re
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import servers

# Hang guard for one expected output (Rasa answers in well under a second when idle), never a pass/fail time.
EXPECT_TIMEOUT_S = 300
# Escape sequences other than OSC 8 hyperlinks: colours, readline's bracketed paste mode, line clearing.
_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")
INTRAPRENEUR = "c'est quoi un intrapreneur ?"


@dataclass
class ChatServer:
    url: str
    tracker_db: Path

    def user_messages(self, channel: str = "terminal") -> list[tuple[str, str, str | None]]:
        """(sender, text, intent) of every user message of the channel, in order."""
        with sqlite3.connect(self.tracker_db) as db:
            rows = db.execute(
                "SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id"
            ).fetchall()
        events = [(sender, json.loads(data)) for sender, data in rows]
        return [
            (sender, event["text"], (event.get("parse_data") or {}).get("intent", {}).get("name"))
            for sender, event in events
            if event.get("input_channel") == channel
        ]


@pytest.fixture(scope="module")
def chat_server(
    action_server: servers.Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChatServer]:
    directory = tmp_path_factory.mktemp("chat")
    db = directory / "conversations.db"
    action_url = action_server.webhook_url
    endpoints = servers.sqlite_endpoints(directory, action_url, db)
    server = servers.rasa_server(
        endpoints, credentials=servers.REPO / "chat" / "credentials.yml", name="rasa-chat"
    )
    with servers.running(server):
        yield ChatServer(url=server.ready_url.rstrip("/"), tracker_db=db)


class Terminal:
    """`python -m chat` in a pseudo-terminal of 100 columns: what it shows, and keys typed into it."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.pid, self.fd = pty.fork()
        if (
            self.pid == 0
        ):  # the child: the pseudo-terminal is its controlling terminal, so Ctrl-C means SIGINT
            os.chdir(servers.REPO)
            os.execve(
                sys.executable,
                [sys.executable, "-m", "chat", *args],
                {**os.environ, "LANG": "C.UTF-8", "TERM": "xterm-256color", **(env or {})},
            )
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        self.raw = ""
        # A read may end inside a character (the prompt's narrow no-break space is three bytes).
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.seen = 0  # what expect() already matched
        self.status: int | None = None

    @property
    def screen(self) -> str:
        return _CSI.sub("", self.raw).replace("\r", "")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError as error:  # EIO: the program ended and closed the terminal
            if error.errno != errno.EIO:
                raise
            data = b""
        if not data:
            return False
        self.raw += self.decoder.decode(data)
        return True

    def expect(self, pattern: str) -> re.Match[str]:
        """Waits for the pattern in what was shown since the last match."""
        deadline = time.monotonic() + EXPECT_TIMEOUT_S
        while True:
            match = re.compile(pattern).search(self.screen, self.seen)
            if match:
                self.seen = match.end()
                return match
            if time.monotonic() > deadline or not self._read(1):
                raise AssertionError(f"{pattern!r} never shown; the terminal shows:\n{self.screen}")

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode("utf-8"))

    def ask(self, line: str) -> str:
        """Types a line at the prompt and returns the answer shown, up to the next prompt."""
        self.expect("Vous\u202f: ")
        self.type(line + "\r")
        # Up to the next prompt, left for the next expect().
        return self.expect(r"(?s)Bienvenue\u202f:\n(.*?)\n\n(?=Vous\u202f: )").group(1)

    def wait_exit(self) -> int:
        deadline = time.monotonic() + EXPECT_TIMEOUT_S
        while self._read(1) and time.monotonic() < deadline:
            pass
        _, status = os.waitpid(self.pid, 0)
        self.status = os.waitstatus_to_exitcode(status)
        os.close(self.fd)
        return self.status

    def close(self) -> None:
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait_exit()


@pytest.fixture
def terminal(chat_server: ChatServer) -> Iterator[Terminal]:
    term = Terminal(["--rasa-url", chat_server.url])
    try:
        yield term
    finally:
        term.close()


def test_question_answered_with_links_and_numbered_choices(terminal: Terminal) -> None:
    answer = terminal.ask(INTRAPRENEUR)
    assert "intrapreneur" in answer.lower()
    assert re.search(r"• \S.*\u00a0: https://\S+", answer), answer  # « titre : URL »
    assert "](" not in terminal.screen and "**" not in terminal.screen
    assert re.search(r"\n    1\. 👍 Oui\n    2\. 👎 Non\n", answer), answer
    assert "Tapez 1 ou 2 pour choisir" in answer


def test_a_number_picks_the_choice(terminal: Terminal, chat_server: ChatServer) -> None:
    terminal.ask(INTRAPRENEUR)
    terminal.ask("1")
    assert "→ 👍 Oui" in terminal.screen
    _, text, intent = chat_server.user_messages()[-1]
    assert (text, intent) == ("/feedback_positive", "feedback_positive")


def test_free_text_after_a_menu_is_the_next_question(terminal: Terminal, chat_server: ChatServer) -> None:
    terminal.ask(INTRAPRENEUR)
    answer = terminal.ask("c koi une startup d'état ?")
    assert "startup d'état" in answer.lower()
    _, text, intent = chat_server.user_messages()[-1]
    assert (text, intent) == ("c koi une startup d'état ?", "ask_what_is_startup_etat")


def test_number_outside_the_menu_gets_a_hint_and_the_menu_stays(terminal: Terminal) -> None:
    terminal.ask(INTRAPRENEUR)
    terminal.expect("Vous\u202f: ")
    terminal.type("7\r")
    terminal.expect("Il n'y a pas de choix 7")
    terminal.ask("2")
    assert "→ 👎 Non" in terminal.screen


def test_one_conversation_per_session_on_the_terminal_channel(chat_server: ChatServer) -> None:
    term = Terminal(["--rasa-url", chat_server.url])
    try:
        term.ask("bonjour")
        term.ask(INTRAPRENEUR)
        term.type("/quitter\r")
        term.expect("Au revoir")
        assert term.wait_exit() == 0
    finally:
        term.close()
    senders = [sender for sender, _, _ in chat_server.user_messages()[-2:]]
    assert senders[0] == senders[1] and senders[0].startswith("terminal-")


@pytest.mark.parametrize(("key", "name"), [("\x04", "Ctrl-D"), ("\x03", "Ctrl-C")])
def test_ctrl_d_and_ctrl_c_end_cleanly(terminal: Terminal, key: str, name: str) -> None:
    terminal.ask("bonjour")
    terminal.expect("Vous\u202f: ")
    terminal.type(key)
    terminal.expect("Au revoir")
    assert terminal.wait_exit() == 0, name
    assert "Traceback" not in terminal.screen


def test_ctrl_c_while_waiting_for_the_answer_ends_cleanly(terminal: Terminal) -> None:
    terminal.expect("Vous\u202f: ")
    terminal.type(INTRAPRENEUR + "\r")
    terminal.expect(re.escape(INTRAPRENEUR) + "\n")  # sent: the answer is on its way (or already shown)
    terminal.type("\x03")
    terminal.expect("Au revoir")
    assert terminal.wait_exit() == 0
    assert "Traceback" not in terminal.screen


def test_hyperlinks_where_the_terminal_supports_them(chat_server: ChatServer) -> None:
    term = Terminal(["--rasa-url", chat_server.url], env={"BIENVENUE_CHAT_HYPERLINKS": "1"})
    try:
        term.ask(INTRAPRENEUR)
        assert re.search(r"\x1b\]8;;https://\S+?\x1b\\[^\x1b]+\x1b\]8;;\x1b\\", term.raw)
    finally:
        term.close()


def test_debug_shows_how_each_message_was_understood(chat_server: ChatServer) -> None:
    term = Terminal(["--rasa-url", chat_server.url, "--debug"])
    try:
        answer = term.ask(INTRAPRENEUR)
        assert re.search(
            r"\(intention\u00a0: ask_what_is_intrapreneur, confiance [01],\d\d, "
            r"sujet\u00a0: ask_what_is_intrapreneur\)",
            answer,
        ), answer
    finally:
        term.close()


def run_batch(chat_server: ChatServer, tmp_path: Path, *extra: str) -> str:
    questions = tmp_path / "questions.txt"
    questions.write_text("# nouvelles formulations\nbonjour\n\nc koi un intra ?\nzorglub bidule\n", "utf-8")
    finished = subprocess.run(
        [sys.executable, "-m", "chat", "--rasa-url", chat_server.url, "--file", str(questions), *extra],
        cwd=servers.REPO,
        env={**os.environ, "COLUMNS": "160"},
        capture_output=True,
        text=True,
        timeout=EXPECT_TIMEOUT_S,
        check=True,
    )
    assert "Traceback" not in finished.stderr
    return finished.stdout


def table_rows(output: str) -> list[list[str]]:
    """The first line of each row's cells (rows of the table start with their number)."""
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in output.splitlines()]
    return [row for row in cells if row[0].isdigit()]


def test_batch_prints_question_answer_intent_confidence_and_topic(
    chat_server: ChatServer, tmp_path: Path
) -> None:
    before = len(chat_server.user_messages())
    output = run_batch(chat_server, tmp_path)
    assert re.search(
        r"\|\s*#\s*\|\s*Question\s*\|\s*Intention\s*\|\s*Confiance\s*\|\s*Sujet\s*\|\s*Réponse", output
    )
    rows = table_rows(output)
    assert [row[0] for row in rows] == ["1", "2", "3"]  # the comment and the blank line are skipped
    assert rows[0][1:3] == ["bonjour", "greet"]
    assert rows[1][2:5:2] == ["ask_what_is_intrapreneur", "ask_what_is_intrapreneur"]
    assert all(re.fullmatch(r"[01],\d\d", row[3]) for row in rows)
    assert "3 question(s), une conversation par question" in output
    senders = {sender for sender, _, _ in chat_server.user_messages()[before:]}
    assert len(senders) == 3


def test_batch_as_one_conversation(chat_server: ChatServer, tmp_path: Path) -> None:
    before = len(chat_server.user_messages())
    output = run_batch(chat_server, tmp_path, "--one")
    assert "3 question(s), une conversation," in output
    senders = {sender for sender, _, _ in chat_server.user_messages()[before:]}
    assert len(senders) == 1


def processes_with(variable: str, value: str) -> list[int]:
    """Processes of this user whose environment holds variable=value."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if f"{variable}={value}".encode() in environ:
            found.append(int(entry.name))
    return found


def test_starts_its_own_rasa_server_quietly_and_stops_it(
    action_server: servers.Server, tmp_path: Path
) -> None:
    """Without --rasa-url: only « Chargement du modèle… » on the terminal, the logs in var/log/, and the Rasa
    server it started stopped at the end."""
    db = tmp_path / "conversations.db"
    questions = tmp_path / "questions.txt"
    questions.write_text("bonjour\n", "utf-8")
    log = servers.REPO / "var" / "log" / "chat-rasa.log"
    log_size = log.stat().st_size if log.exists() else 0
    finished = subprocess.run(
        [sys.executable, "-m", "chat", "--file", str(questions)],
        cwd=servers.REPO,
        env={
            **os.environ,
            "ACTION_SERVER_URL": action_server.webhook_url,
            "BIENVENUE_TRACKER_DB": str(db),
        },
        capture_output=True,
        text=True,
        timeout=servers.STARTUP_TIMEOUT_S,
        check=True,
    )
    assert finished.stderr == "Chargement du modèle…\n"
    assert table_rows(finished.stdout)[0][1:3] == ["bonjour", "greet"]
    assert "Rasa server is up and running" in log.read_text("utf-8", "replace")[log_size:]
    assert processes_with("BIENVENUE_TRACKER_DB", str(db)) == []
    assert db.exists()
