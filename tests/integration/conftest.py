"""Session-wide real servers: one action server and one Rasa server with the project's channels."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests import servers


@dataclass
class Bot:
    """A running Rasa server and the helpers to talk to it over the REST channel."""

    base_url: str
    tracker_db: Path

    def send(self, sender: str, message: str) -> list[dict]:
        reply = requests.post(
            f"{self.base_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=120,
        )
        reply.raise_for_status()
        return reply.json()

    def slot(self, sender: str, name: str) -> object:
        """The slot's current value, read from the conversation stored in the SQLite tracker store."""
        with sqlite3.connect(self.tracker_db) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot' ORDER BY id", (sender,)
            ).fetchall()
        events = [json.loads(data) for (data,) in rows]
        values = [event["value"] for event in events if event["name"] == name]
        return values[-1] if values else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def action_server() -> Iterator[servers.Server]:
    with servers.running(servers.action_server()) as server:
        yield server


@pytest.fixture(scope="session")
def bot(action_server: servers.Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    directory = tmp_path_factory.mktemp("bot")
    db = directory / "conversations.db"
    action_url = action_server.ready_url.replace("/health", "/webhook")
    endpoints = servers.sqlite_endpoints(directory, action_url, db)
    with servers.running(servers.rasa_server(endpoints)) as server:
        yield Bot(base_url=server.ready_url.rstrip("/"), tracker_db=db)
