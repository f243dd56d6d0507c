"""`python -m chat` (`make chat`): talk to the assistant in this terminal, or check a file of questions.

python -m chat                          # conversation; /quitter, Ctrl-D or Ctrl-C to leave
python -m chat --file questions.txt     # one conversation per line, then a table (--one: a single one)
python -m chat --rasa-url URL           # use a running Rasa server that serves the terminal channel
python -m chat --debug                  # the servers' logs here instead of var/log/, and the intent,
                                        # confidence and topic of every message
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import uuid
from pathlib import Path
from types import FrameType
from typing import TextIO

from chat import backend, render
from chat.client import Assistant, AssistantUnavailable, Reply

QUIT_COMMANDS = frozenset({"/quitter", "/quit", "/exit"})
FALLBACK_INTENT = "nlu_fallback"
BATCH_HEADERS = ("#", "Question", "Intention", "Confiance", "Sujet", "Réponse")


def new_sender(kind: str = "") -> str:
    return f"terminal-{kind}{uuid.uuid4().hex[:12]}"


class Style:
    """Bold and dim on a colour terminal (NO_COLOR respected), nothing elsewhere."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def bold(self, text: str, prompt: bool = False) -> str:
        return self._wrap("1", text, prompt)

    def dim(self, text: str) -> str:
        return self._wrap("2", text, False)

    def _wrap(self, code: str, text: str, prompt: bool) -> str:
        if not self.enabled:
            return text
        # readline must be told which prompt characters take no room: \001 … \002 around escape sequences.
        start, end = ("\001", "\002") if prompt else ("", "")
        return f"{start}\x1b[{code}m{end}{text}{start}\x1b[0m{end}"


def understanding(reply: Reply) -> str:
    """How the message was understood, for maintainers (--debug)."""
    confidence = render.format_confidence(reply.confidence)
    intent, topic = reply.intent or "—", reply.topic or "—"
    return f"(intention\u00a0: {intent}, confiance {confidence}, sujet\u00a0: {topic})"


def converse(assistant: Assistant, out: TextIO, style: Style, hyperlinks: bool, debug: bool = False) -> None:
    """Reads questions until /quitter or Ctrl-D; every line that is not a listed choice's number is sent.
    With `debug`, each answer ends with the intent, confidence and topic of the message."""
    try:
        import readline  # line editing and history with the arrow keys for input()

        readline.parse_and_bind("tab: tab-insert")  # no file-name completion in a chat
    except ImportError:
        pass
    sender = new_sender()
    out.write(
        style.bold("Bienvenue") + ", l'assistant d'accueil de beta.gouv.fr. Posez votre question "
        "(/quitter ou Ctrl-D pour sortir).\n\n"
    )
    prompt = style.bold("Vous\u202f:", prompt=True) + " "
    choices: tuple[render.Choice, ...] = ()
    while True:
        out.flush()
        try:
            line = input(prompt)
        except EOFError:
            out.write("\n")
            break
        if not line.strip():
            continue
        if line.strip().lower() in QUIT_COMMANDS:
            break
        picked = render.read_choice(line, choices)
        if isinstance(picked, render.NoSuchChoice):
            out.write(style.dim(picked.hint) + "\n")
            continue
        if picked is not None:
            out.write(style.dim(f"  → {picked.title}") + "\n")
        reply = assistant.send(sender, picked.payload if picked else line)
        width = min(shutil.get_terminal_size().columns, 100) - 1
        rendered = render.render_messages(reply.messages, width=width, hyperlinks=hyperlinks)
        out.write(style.bold("Bienvenue\u202f:") + "\n" + "\n".join(rendered.lines) + "\n")
        if rendered.choices:
            out.write(style.dim("  " + render.choices_hint(rendered.choices)) + "\n")
        if debug:
            out.write(style.dim("  " + understanding(reply)) + "\n")
        out.write("\n")
        choices = rendered.choices


def read_questions(path: Path) -> list[str]:
    """The file's questions: one a line, blank lines and lines starting with # skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def batch_row(number: int, question: str, reply: Reply) -> list[str]:
    return [
        str(number),
        question,
        reply.intent or "—",
        render.format_confidence(reply.confidence),
        reply.topic or "—",
        render.plain_answer(reply.messages),
    ]


def column_widths(rows: list[list[str]], total: int) -> list[int]:
    """Number, intent, confidence and topic as wide as they need (up to a limit); question and answer share
    the rest, a third and two thirds."""

    def fitted(index: int, limit: int) -> int:
        return min(limit, max(render.display_width(row[index]) for row in [list(BATCH_HEADERS), *rows]))

    fixed = [fitted(0, 4), fitted(2, 32), fitted(3, 9), fitted(4, 32)]
    free = max(40, total - sum(fixed) - 3 * len(BATCH_HEADERS) - 1)
    question = max(15, free // 3)
    return [fixed[0], question, fixed[1], fixed[2], fixed[3], max(20, free - question)]


def run_batch(assistant: Assistant, questions: list[str], one_conversation: bool, out: TextIO) -> None:
    sender = new_sender("batch-")
    rows = []
    for number, question in enumerate(questions, start=1):
        reply = assistant.send(sender if one_conversation else new_sender("batch-"), question)
        rows.append(batch_row(number, question, reply))
    width = shutil.get_terminal_size(fallback=(160, 24)).columns
    out.write(render.format_table(BATCH_HEADERS, rows, column_widths(rows, width)) + "\n")
    fallbacks = sum(1 for row in rows if row[2] == FALLBACK_INTENT)
    conversations = "une conversation" if one_conversation else "une conversation par question"
    out.write(f"{len(rows)} question(s), {conversations}, {fallbacks} non comprise(s) ({FALLBACK_INTENT}).\n")


class Ending:
    """Ctrl-C, SIGTERM (`make` passes Ctrl-C on as one) and SIGHUP (closed terminal) end the chat the same
    way: the first raises KeyboardInterrupt, later ones are ignored, so that the goodbye and the servers' stop
    are never interrupted (make's SIGTERM follows Ctrl-C's SIGINT at once)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.begun = False
        for signum in self.SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self.begun:
            self.begun = True
            raise KeyboardInterrupt


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chat", description="Discuter avec Bienvenue dans le terminal."
    )
    parser.add_argument("--file", type=Path, help="fichier de questions, une par ligne : affiche un tableau")
    parser.add_argument("--one", action="store_true", help="avec --file : une seule conversation")
    parser.add_argument("--rasa-url", help="serveur Rasa déjà lancé, servant le canal terminal")
    parser.add_argument("--debug", action="store_true", help="journaux et intentions affichés")
    args = parser.parse_args(argv)
    if args.one and args.file is None:
        parser.error("--one ne s'emploie qu'avec --file")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    questions = None
    if args.file is not None:
        try:
            questions = read_questions(args.file)
        except (OSError, UnicodeDecodeError) as error:
            print(f"Impossible de lire {args.file}\u00a0: {error}", file=sys.stderr)
            return 2
    ending = Ending()
    servers = None
    try:
        servers = backend.start(args.rasa_url, args.debug, sys.stderr)
        assistant = Assistant(servers.rasa_url)
        if questions is not None:
            run_batch(assistant, questions, args.one, sys.stdout)
        else:
            is_terminal = sys.stdout.isatty()
            style = Style(is_terminal and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb")
            hyperlinks = render.supports_hyperlinks(os.environ, is_terminal)
            converse(assistant, sys.stdout, style, hyperlinks, debug=args.debug)
            print("Au revoir.")
        return 0
    except KeyboardInterrupt:
        print("\nAu revoir.")
        return 0
    except (backend.BackendFailed, AssistantUnavailable) as error:
        print(f"\n{error}", file=sys.stderr)
        return 1
    finally:
        ending.begun = True
        if servers is not None:
            servers.stop()


if __name__ == "__main__":
    sys.exit(main())
