"""What the terminal shows of the bot's messages (pure functions, no I/O).

Bot messages are written for Markdown renderers (the web page, Mattermost): here links become « titre : URL »
(or OSC 8 hyperlinks on terminals known to support them), bold markers and autolink brackets go, and buttons
become numbered choices that the next line may pick by number.
"""

from __future__ import annotations

import json
import re
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# [title](url), the URL possibly holding one level of parentheses (Wikipedia-style addresses).
_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://(?:[^()\s]|\([^()\s]*\))+)\)")
_AUTOLINK = re.compile(r"<(https?://[^<>\s]+)>")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_BULLET = re.compile(r"^(\s*)[-*] ", re.MULTILINE)
_CHOICE = re.compile(r"(\d{1,4})\s*[.)]?")

HYPERLINKS_ENV = "BIENVENUE_CHAT_HYPERLINKS"
# Terminals that render OSC 8 hyperlinks (TERM_PROGRAM values); others would show the title and lose the URL.
_HYPERLINK_TERMINALS = frozenset({"iTerm.app", "WezTerm", "vscode", "ghostty", "Hyper"})
_VTE_WITH_HYPERLINKS = 5000  # GNOME Terminal and other VTE terminals since 0.50


@dataclass(frozen=True)
class Choice:
    number: int
    title: str
    payload: str


@dataclass(frozen=True)
class NoSuchChoice:
    """A number typed while choices are shown, but none of them: the French hint to print instead."""

    hint: str


@dataclass(frozen=True)
class Rendered:
    lines: tuple[str, ...]
    choices: tuple[Choice, ...]


def hyperlink(title: str, url: str) -> str:
    return f"\x1b]8;;{url}\x1b\\{title}\x1b]8;;\x1b\\"


def link_text(title: str, url: str) -> str:
    return url if title.strip() == url else f"{title}\u00a0: {url}"


def render_markdown(text: str, hyperlinks: bool = False) -> str:
    """The Markdown the bot writes, as plain terminal text."""

    def link(match: re.Match[str]) -> str:
        title, url = match.group(1), match.group(2)
        return hyperlink(title, url) if hyperlinks else link_text(title, url)

    text = _LINK.sub(link, text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _BOLD.sub(lambda match: match.group(1) or match.group(2), text)
    return _BULLET.sub(r"\1• ", text)


def _wrap(text: str, width: int, indent: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        bullet = paragraph.lstrip().startswith("• ")
        lines.extend(
            textwrap.wrap(
                paragraph,
                width=max(width, 20),
                initial_indent=indent,
                subsequent_indent=indent + ("  " if bullet else ""),
                break_long_words=False,  # URLs stay whole, so that terminals still detect them
                break_on_hyphens=False,
            )
            or [indent]
        )
    return lines


def render_messages(
    messages: Sequence[Mapping[str, Any]], width: int = 100, hyperlinks: bool = False, indent: str = "  "
) -> Rendered:
    """One turn's bot messages as lines, buttons numbered from 1 across the turn."""
    lines: list[str] = []
    choices: list[Choice] = []
    for message in messages:
        if message.get("text"):
            lines.extend(_wrap(render_markdown(str(message["text"]), hyperlinks), width, indent))
        if message.get("image"):
            lines.append(f"{indent}Image\u00a0: {message['image']}")
        if message.get("attachment"):
            lines.append(f"{indent}Pièce jointe\u00a0: {message['attachment']}")
        if message.get("custom"):
            lines.append(indent + json.dumps(message["custom"], ensure_ascii=False))
        for button in message.get("buttons") or []:
            choice = Choice(len(choices) + 1, str(button.get("title", "")), str(button.get("payload", "")))
            choices.append(choice)
            lines.append(f"{indent}  {choice.number}. {choice.title}")
    return Rendered(tuple(lines), tuple(choices))


def plain_answer(messages: Sequence[Mapping[str, Any]]) -> str:
    """A turn's texts on one line, links as « titre : URL », then its choices in brackets (for a table)."""
    texts = [
        " ".join(line.strip() for line in render_markdown(str(message["text"])).splitlines() if line.strip())
        for message in messages
        if message.get("text")
    ]
    titles = [str(button.get("title", "")) for message in messages for button in message.get("buttons") or []]
    if titles:
        texts.append("[choix\u00a0: " + " · ".join(titles) + "]")
    return " ".join(texts)


def choices_hint(choices: Sequence[Choice]) -> str:
    numbers = {1: "1", 2: "1 ou 2"}.get(len(choices), f"un numéro de 1 à {len(choices)}")
    return f"(Tapez {numbers} pour choisir, ou posez directement une autre question.)"


def read_choice(line: str, choices: Sequence[Choice]) -> Choice | NoSuchChoice | None:
    """The choice a line picks, a hint when it is a number matching none, or None: the line is a message."""
    match = _CHOICE.fullmatch(line.strip())
    if not choices or match is None:
        return None
    number = int(match.group(1))
    if 1 <= number <= len(choices):
        return choices[number - 1]
    return NoSuchChoice(f"Il n'y a pas de choix {number}. {choices_hint(choices)}")


def supports_hyperlinks(environ: Mapping[str, str], is_terminal: bool) -> bool:
    """OSC 8 hyperlinks where the terminal is known to show them; BIENVENUE_CHAT_HYPERLINKS=1 or 0 decides."""
    forced = environ.get(HYPERLINKS_ENV, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    if not is_terminal or environ.get("TERM", "") == "dumb":
        return False
    if environ.get("TMUX") or environ.get("STY") or environ.get("TERM", "").startswith(("screen", "tmux")):
        return False  # multiplexers drop hyperlinks unless configured to pass them
    if environ.get("TERM_PROGRAM") in _HYPERLINK_TERMINALS or environ.get("KITTY_WINDOW_ID"):
        return True
    if environ.get("WT_SESSION"):  # Windows Terminal
        return True
    vte = environ.get("VTE_VERSION", "")
    return vte.isdigit() and int(vte) >= _VTE_WITH_HYPERLINKS


def format_confidence(confidence: float | None) -> str:
    return "—" if confidence is None else f"{confidence:.2f}".replace(".", ",")


def display_width(text: str) -> int:
    """Columns the text takes in a terminal: wide characters (emoji, CJK) two, combining marks none."""
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        for char in text
    )


def wrap_cell(text: str, width: int) -> list[str]:
    """Words greedily on lines of at most `width` columns (as displayed); longer words are cut, except URLs:
    one stays whole on its own line, wider than its column, so that it can still be copied or clicked."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        while display_width(word) > width and "://" not in word:
            cut = max(1, next(i for i in range(len(word), 0, -1) if display_width(word[:i]) <= width))
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}" if current else word
        if display_width(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return [line for line in lines if line] or [""]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> str:
    """A text table whose cells wrap within their column's width."""
    separator = "+" + "+".join("-" * (width + 2) for width in widths) + "+"

    def row_lines(cells: Sequence[str]) -> list[str]:
        wrapped = [wrap_cell(cell, width) for cell, width in zip(cells, widths, strict=True)]
        height = max(len(column) for column in wrapped)
        return [
            "| "
            + " | ".join(
                _pad(column[index] if index < len(column) else "", width)
                for column, width in zip(wrapped, widths, strict=True)
            )
            + " |"
            for index in range(height)
        ]

    lines = [separator, *row_lines(headers), separator.replace("-", "=")]
    for row in rows:
        lines.extend(row_lines(row))
        lines.append(separator)
    return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))
