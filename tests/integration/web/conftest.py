"""The web stack of the browser tests: a Rasa server allowing only the page's origin, and the page server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import servers


@dataclass
class WebStack:
    origin: str  # the page's origin, the only one Rasa accepts
    rasa_url: str
    tracker_db: Path

    @property
    def page_url(self) -> str:
        return f"{self.origin}/"


@pytest.fixture(scope="session")
def web_stack(action_server: servers.Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    web_port = servers.free_port()
    origin = f"http://127.0.0.1:{web_port}"
    directory = tmp_path_factory.mktemp("web")
    db = directory / "conversations.db"
    action_url = action_server.ready_url.replace("/health", "/webhook")
    endpoints = servers.sqlite_endpoints(directory, action_url, db)
    rasa = servers.rasa_server(
        endpoints,
        name="rasa-web",
        extra_args=["--cors", origin],
        env={"BIENVENUE_WEB_ORIGIN": origin},
    )
    with servers.running(rasa) as rasa_process:
        rasa_url = rasa_process.ready_url.rstrip("/")
        page = servers.Server(
            name="web",
            command=[
                str(servers.VENV_BIN / "python"), str(servers.REPO / "web" / "serve.py"),
                "--port", str(web_port), "--rasa-url", rasa_url,
            ],
            ready_url=f"{origin}/",
        )
        with servers.running(page):
            yield WebStack(origin=origin, rasa_url=rasa_url, tracker_db=db)
