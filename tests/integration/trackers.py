"""Reads a conversation back from a Rasa server's HTTP API, in turns (a user message and what followed)."""

from __future__ import annotations

from dataclasses import dataclass

import requests

# The HTTP API of the test servers listens on loopback only; the token just satisfies Rasa.
API_TOKEN = "bienvenue-tests"
API_ARGS = ("--enable-api", "--auth-token", API_TOKEN)


@dataclass
class Turn:
    text: str
    actions: list[str]
    slots: dict[str, object]


def tracker(base_url: str, sender: str) -> dict:
    reply = requests.get(
        f"{base_url}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=60
    )
    reply.raise_for_status()
    return reply.json()


def send(base_url: str, sender: str, message: str) -> requests.Response:
    reply = requests.post(
        f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=120
    )
    reply.raise_for_status()
    return reply


def turns(events: list[dict]) -> list[Turn]:
    """The user messages in the order they were stored, each with the actions and slot values following."""
    result: list[Turn] = []
    for event in events:
        if event["event"] == "user":
            result.append(Turn(text=event["text"], actions=[], slots={}))
        elif result and event["event"] == "action":
            result[-1].actions.append(event["name"])
        elif result and event["event"] == "slot":
            result[-1].slots[event["name"]] = event["value"]
    return result


def expected_action(payload: str) -> str:
    """The answer that the rules give to an intent sent as a payload: utter_<intent>."""
    return f"utter_{payload.removeprefix('/')}"
