"""Session-wide real servers, shared by every module that does not need a configuration of its own.

One action server, one Rasa server on the project's own endpoints.yml (SQLite store, every channel of
credentials.yml, the HTTP API behind a token, CORS for the web page's origin) and, when a collected test needs
it, a second Rasa server on the same store: a fresh process, as after a restart. They are launched together at
the first use, so their start-ups overlap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from channels import guard
from tests import servers
from tests.integration import trackers
from tests.integration.robustness import ACTION_SERVER_ENV, HANG_GUARD_S, WEBHOOK, stored_events


@dataclass
class Bot:
    """A running Rasa server and the helpers to talk to it over the REST channel."""

    base_url: str
    tracker_db: Path
    server: servers.Server

    def send(self, sender: str, message: str) -> list[dict]:
        reply = requests.post(
            f"{self.base_url}{WEBHOOK}", json={"sender": sender, "message": message}, timeout=HANG_GUARD_S
        )
        reply.raise_for_status()
        return reply.json()

    def events(self, sender: str) -> list[dict]:
        """The conversation as stored in the SQLite tracker store, oldest first."""
        return stored_events(self.tracker_db, sender)

    def slot(self, sender: str, name: str) -> object:
        """The slot's last stored value."""
        values = [
            event["value"]
            for event in self.events(sender)
            if event["event"] == "slot" and event["name"] == name
        ]
        return values[-1] if values else None

    def tracker(self, sender: str) -> dict:
        """The conversation as Rasa itself reads it back (HTTP API)."""
        return trackers.tracker(self.base_url, sender)


@dataclass
class SharedServers:
    actions: servers.Server
    bot: Bot
    restarted_bot: Bot | None
    web_origin: str


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def needed_fixtures(session: pytest.Session) -> set[str]:
    return {name for item in session.items for name in getattr(item, "fixturenames", ())}


@pytest.fixture(scope="session")
def shared_servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedServers]:
    directory = tmp_path_factory.mktemp("shared")
    db = directory / "conversations.db"
    web_origin = f"http://127.0.0.1:{servers.free_port()}"
    actions = servers.action_server()
    actions.env.update(ACTION_SERVER_ENV)
    # The project's own default profile, as `make run` uses it.
    env = {
        "ACTION_SERVER_URL": actions.webhook_url,
        "BIENVENUE_TRACKER_DB": str(db),
        "BIENVENUE_WEB_ORIGIN": web_origin,
        # Hang guard only: on a busy machine a slow turn must not become the guard's apology.
        guard.REPLY_TIMEOUT_ENV: str(HANG_GUARD_S),
    }
    endpoints = servers.REPO / "endpoints.yml"
    api_and_cors = [*trackers.API_ARGS, "--cors", web_origin]
    rasa = servers.rasa_server(endpoints, name="rasa", extra_args=api_and_cors, env=env)
    group = [actions, rasa]
    restarted = None
    if "restarted_bot" in needed_fixtures(request.session):
        restarted = servers.rasa_server(endpoints, name="rasa-restarted", extra_args=api_and_cors, env=env)
        group.append(restarted)
    with servers.running_together(*group):
        yield SharedServers(
            actions=actions,
            bot=Bot(base_url=rasa.base_url, tracker_db=db, server=rasa),
            restarted_bot=restarted and Bot(base_url=restarted.base_url, tracker_db=db, server=restarted),
            web_origin=web_origin,
        )


@pytest.fixture(scope="session")
def action_server(shared_servers: SharedServers) -> servers.Server:
    return shared_servers.actions


@pytest.fixture(scope="session")
def bot(shared_servers: SharedServers) -> Bot:
    return shared_servers.bot


@pytest.fixture(scope="session")
def restarted_bot(shared_servers: SharedServers) -> Bot:
    """Another Rasa process on the shared bot's store: it knows a conversation only from what was stored."""
    assert shared_servers.restarted_bot is not None
    return shared_servers.restarted_bot
