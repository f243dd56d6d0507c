"""Talks to the terminal channel (channels/terminal.py) of a Rasa server over HTTP, standard library only:
the chat program does not import Rasa, so it starts at once and prints none of its warnings."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

WEBHOOK_PATH = "/webhooks/terminal/webhook"
HEALTH_PATH = "/webhooks/terminal/"
# Hang guard only: the guard answers within BIENVENUE_REPLY_TIMEOUT_S (30 s), a loaded machine may add more.
REQUEST_TIMEOUT_S = 300


class AssistantUnavailable(Exception):
    """The Rasa server cannot be reached or answered something unusable; the message is in French."""


@dataclass(frozen=True)
class Reply:
    messages: list[dict[str, Any]]
    intent: str | None
    confidence: float | None
    topic: str | None


def parse_reply(body: bytes) -> Reply:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise AssistantUnavailable("Réponse illisible du serveur de l'assistant.") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
        raise AssistantUnavailable("Réponse inattendue du serveur de l'assistant.")
    intent = payload.get("intent") or {}
    return Reply(
        messages=[message for message in payload["messages"] if isinstance(message, dict)],
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        topic=payload.get("topic"),
    )


class Assistant:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + HEALTH_PATH, timeout=5):
                return True
        except (urllib.error.URLError, OSError):
            return False

    def send(self, sender: str, text: str) -> Reply:
        request = urllib.request.Request(
            self.base_url + WEBHOOK_PATH,
            data=json.dumps({"sender": sender, "message": text}).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as answer:
                return parse_reply(answer.read())
        except urllib.error.HTTPError as error:
            # 503: the tracker store failed, the body still holds the French explanation for the user.
            if error.code == 503:
                return parse_reply(error.read())
            detail = error.read().decode("utf-8", "replace")[:300]
            message = f"Le serveur de l'assistant a répondu {error.code}\u00a0: {detail}"
            raise AssistantUnavailable(message) from error
        except (urllib.error.URLError, OSError) as error:
            raise AssistantUnavailable(
                f"Le serveur de l'assistant ne répond pas ({self.base_url})\u00a0: {error}"
            ) from error
