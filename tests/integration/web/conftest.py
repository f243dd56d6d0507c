"""The web stack of the browser tests: the shared Rasa server (it allows only the page's origin) and the page
server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import servers
from tests.integration.conftest import SharedServers


@dataclass
class WebStack:
    origin: str  # the page's origin, the only one Rasa accepts
    rasa_url: str
    tracker_db: Path

    @property
    def page_url(self) -> str:
        return f"{self.origin}/"


@pytest.fixture(scope="session")
def web_stack(shared_servers: SharedServers) -> Iterator[WebStack]:
    origin = shared_servers.web_origin
    rasa_url = shared_servers.bot.base_url
    page = servers.Server(
        name="web",
        command=[
            str(servers.VENV_BIN / "python"), "-m", "web.serve",
            "--port", str(urlsplit(origin).port), "--rasa-url", rasa_url,
        ],
        ready_url=f"{origin}/",
    )
    with servers.running(page):
        yield WebStack(origin=origin, rasa_url=rasa_url, tracker_db=shared_servers.bot.tracker_db)
