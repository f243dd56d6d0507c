"""Closed by default, as `make run` starts the assistant (scripts/run.sh, run here on free ports):

- the Rasa HTTP API (model, tracker and training endpoints) does not exist unless RASA_API_TOKEN is set, and
  then refuses every request without that token;
- CORS allows only the web page's origin (BIENVENUE_WEB_ORIGIN);
- request bodies over SANIC_REQUEST_MAX_SIZE get 413, messages over BIENVENUE_MAX_MESSAGE_CHARS a French
  refusal;
- every server listens on loopback only;
- secrets come only from the environment.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import select
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from channels import guard
from tests import servers
from tests.integration.robustness import WEBHOOK, answered, assert_answer, post, says, texts

FOREIGN_ORIGINS = ["https://evil.example", "http://localhost:8081", "null"]
API_ENDPOINTS = [
    ("GET", "/status"),
    ("GET", "/version"),
    ("GET", "/domain"),
    ("GET", "/conversations/closed-victim/tracker"),
    ("GET", "/conversations/closed-victim/story"),
    ("POST", "/conversations/closed-victim/tracker/events"),
    ("PUT", "/conversations/closed-victim/tracker/events"),
    ("POST", "/conversations/closed-victim/messages"),
    ("POST", "/conversations/closed-victim/trigger_intent"),
    ("POST", "/conversations/closed-victim/execute"),
    ("POST", "/conversations/closed-victim/predict"),
    ("POST", "/model/parse"),
    ("POST", "/model/train"),
    ("POST", "/model/test/intents"),
    ("POST", "/model/test/stories"),
    ("POST", "/model/predict"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
]
# /version stays public with the API on (it gives only the versions); every other endpoint needs the token.
PROTECTED_ENDPOINTS = [endpoint for endpoint in API_ENDPOINTS if endpoint != ("GET", "/version")]


@dataclass
class Running:
    rasa_url: str
    ports: dict[str, int]
    server: servers.Server

    @property
    def page_origin(self) -> str:
        """The origin of the page run.sh serves, BIENVENUE_WEB_ORIGIN's default (settings.py)."""
        return f"http://localhost:{self.ports['web']}"


@pytest.fixture(scope="module")
def tmp_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("closed")


def run_sh(directory: Path, name: str, env: dict[str, str]) -> Iterator[Running]:
    """scripts/run.sh on free ports; empty variables mean "use run.sh's default"."""
    ports = {"rasa": servers.free_port(), "actions": servers.free_port(), "web": servers.free_port()}
    server = servers.Server(
        name=name,
        command=[str(servers.REPO / "scripts" / "run.sh")],
        ready_url=f"http://127.0.0.1:{ports['rasa']}/",
        env={
            "RASA_PORT": str(ports["rasa"]),
            "ACTIONS_PORT": str(ports["actions"]),
            "WEB_PORT": str(ports["web"]),
            "BIENVENUE_TRACKER_DB": str(directory / f"{name}.db"),
            "RASA_API_TOKEN": "",
            "BIENVENUE_WEB_ORIGIN": "",
            "SANIC_REQUEST_MAX_SIZE": "",
            guard.MAX_MESSAGE_CHARS_ENV: "",
            **env,
        },
    )
    with servers.running(server):
        # run.sh starts the page server last: wait for it too (no process of its own to watch here).
        servers.Server(
            name=f"{name}-web", command=[], ready_url=f"http://127.0.0.1:{ports['web']}/"
        ).wait_ready()
        yield Running(rasa_url=f"http://127.0.0.1:{ports['rasa']}", ports=ports, server=server)
        assert_ctrl_c_stops_everything(server, ports)


def assert_ctrl_c_stops_everything(server: servers.Server, ports: dict[str, int]) -> None:
    """Ctrl-C on `make run` stops every server it started: checked when each run ends, whatever ran before."""
    process = server.process
    assert process is not None and process.poll() is None, "run.sh stopped before Ctrl-C"
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends to its foreground job on Ctrl-C
    process.wait(timeout=120)
    for port in ports.values():
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/", timeout=5)


@pytest.fixture(scope="module")
def default_run(tmp_module: Path) -> Iterator[Running]:
    """`make run` with nothing configured: CORS allows the page it serves on WEB_PORT."""
    yield from run_sh(tmp_module, "run-sh-default", {})


API_TOKEN = "token-from-the-environment-only"
CUSTOM_ORIGIN = "https://bienvenue.example"


@pytest.fixture(scope="module")
def configured_run(tmp_module: Path) -> Iterator[Running]:
    """`make run` with the API token and the limits set in the environment."""
    yield from run_sh(
        tmp_module,
        "run-sh-configured",
        {
            "RASA_API_TOKEN": API_TOKEN,
            "BIENVENUE_WEB_ORIGIN": CUSTOM_ORIGIN,
            "SANIC_REQUEST_MAX_SIZE": "5000",
            guard.MAX_MESSAGE_CHARS_ENV: "300",
        },
    )


def call(base_url: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("json", {})
    return requests.request(method, f"{base_url}{path}", timeout=120, **kwargs)


# --- HTTP API -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), API_ENDPOINTS)
def test_without_a_token_the_api_does_not_exist(default_run: Running, method: str, path: str) -> None:
    assert call(default_run.rasa_url, method, path).status_code == 404


@pytest.mark.parametrize(("method", "path"), PROTECTED_ENDPOINTS)
def test_with_a_token_the_api_refuses_requests_without_it(
    configured_run: Running, method: str, path: str
) -> None:
    assert call(configured_run.rasa_url, method, path).status_code == 401
    wrong = call(configured_run.rasa_url, method, path, params={"token": API_TOKEN + "x"})
    assert wrong.status_code == 401


def test_with_a_token_the_api_answers_its_holder(configured_run: Running) -> None:
    sender = "closed-api-holder"
    assert_answer(post(configured_run.rasa_url, {"sender": sender, "message": "/greet"}), sender)
    response = call(
        configured_run.rasa_url, "GET", f"/conversations/{sender}/tracker", params={"token": API_TOKEN}
    )
    assert response.status_code == 200
    assert response.json()["sender_id"] == sender


# --- CORS -----------------------------------------------------------------------------------------------


def cors_headers(base_url: str, origin: str) -> list[dict[str, str]]:
    """The CORS headers of a preflight and of a message, sent from `origin`."""
    preflight = requests.options(
        f"{base_url}{WEBHOOK}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=120,
    )
    message = requests.post(
        f"{base_url}{WEBHOOK}",
        json={"sender": "closed-cors", "message": "/greet"},
        headers={"Origin": origin},
        timeout=120,
    )
    return [
        {
            name: value
            for name, value in response.headers.items()
            if name.lower().startswith("access-control-")
        }
        for response in (preflight, message)
    ]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_a_foreign_origin_gets_no_cors_header(default_run: Running, origin: str) -> None:
    assert cors_headers(default_run.rasa_url, origin) == [{}, {}]


def test_the_web_pages_origin_is_allowed(default_run: Running) -> None:
    for headers in cors_headers(default_run.rasa_url, default_run.page_origin):
        assert headers["Access-Control-Allow-Origin"] == default_run.page_origin


def test_the_allowed_origin_comes_from_the_environment(configured_run: Running) -> None:
    for headers in cors_headers(configured_run.rasa_url, CUSTOM_ORIGIN):
        assert headers["Access-Control-Allow-Origin"] == CUSTOM_ORIGIN
    assert cors_headers(configured_run.rasa_url, configured_run.page_origin) == [{}, {}]


# --- limits ---------------------------------------------------------------------------------------------


def post_chunked(base_url: str, body: bytes) -> int:
    """The status of a body sent without Content-Length: the server only learns its size while reading it.

    The body goes in chunks, and the sending stops as soon as the server has answered, so that its answer is
    read before it closes the connection: a reset without an answer is an error, not a 413.
    """
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=120) as connection:
        connection.sendall(
            f"POST {WEBHOOK} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        for start in range(0, len(body), 8192):
            if select.select([connection], [], [], 0.05)[0]:
                break  # the server answered before the end of the body
            chunk = body[start : start + 8192]
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        else:
            connection.sendall(b"0\r\n\r\n")
        status_line = connection.makefile("rb").readline()
    return int(status_line.split()[1])


def message_body(size: int) -> bytes:
    return json.dumps({"sender": "closed-size", "message": "x" * size}).encode()


def test_bodies_over_the_default_size_limit_get_413(default_run: Running) -> None:
    body = message_body(150_000)  # run.sh's default limit: 100 000 bytes
    assert (
        requests.post(
            f"{default_run.rasa_url}{WEBHOOK}",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=120,
        ).status_code
        == 413
    )
    assert post_chunked(default_run.rasa_url, body) == 413
    # Under the limit, an over-long message gets the guard's French refusal instead.
    replies = answered(
        post(default_run.rasa_url, {"sender": "closed-size", "message": "x" * 50_000}), "closed-size"
    )
    assert texts(replies) == [guard.TOO_LONG_ANSWER.format(limit="2\u202f000")]


def test_the_limits_come_from_the_environment(configured_run: Running) -> None:
    assert post_chunked(configured_run.rasa_url, message_body(6000)) == 413
    replies = answered(
        post(configured_run.rasa_url, {"sender": "closed-limit", "message": "x" * 301}), "closed-limit"
    )
    assert texts(replies) == [guard.TOO_LONG_ANSWER.format(limit="300")]
    replies = assert_answer(
        post(configured_run.rasa_url, {"sender": "closed-limit", "message": "/ask_what_is_beta_gouv"}),
        "closed-limit",
    )
    assert says(replies, "utter_ask_what_is_beta_gouv")
    # The limit is for requests from outside: Rasa's calls to the action server (the whole conversation and
    # the domain, tens of kilobytes) still go through, so the topic comes with its links.
    assert any("](https://" in text for text in texts(replies)), texts(replies)


# --- network --------------------------------------------------------------------------------------------


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on `port` (from the kernel's tables)."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address_hex, port_hex = fields[1].split(":")
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address_hex)
            # The kernel prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, raw))
    return found


def idle_connection_is_kept(port: int, idle_s: float) -> bool:
    """Whether a server still answers a request sent `idle_s` seconds after the connection opened."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        time.sleep(idle_s)
        try:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            return connection.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False


def test_the_action_server_waits_for_a_busy_rasa(default_run: Running) -> None:
    """Rasa opens a connection per action call; when busy, it may send its request seconds later. Sanic's
    default (5 s) would have closed the connection and the action would be lost."""
    assert idle_connection_is_kept(default_run.ports["actions"], idle_s=7)


def test_every_server_listens_on_loopback_only(default_run: Running) -> None:
    for name, port in default_run.ports.items():
        addresses = listening_addresses(port)
        assert addresses, f"nothing listens on the {name} port"
        assert all(ipaddress.ip_address(address).is_loopback for address in addresses), (name, addresses)


# --- secrets --------------------------------------------------------------------------------------------

# A key is secret when its last word is one of these (api_key, bot_token; not key_prefix), or contains these.
SECRET_WORDS = {"token", "tokens", "password", "passwd", "secret", "key", "pass"}
SECRET_PARTS = ("password", "secret", "token")
ENV_REFERENCE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*\}$")
CONFIG_FILES = ["credentials.yml", "endpoints.yml", "endpoints.production.yml"]


def secret_values(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            name = str(key).lower()
            if re.split(r"[_\-.]", name)[-1] in SECRET_WORDS or any(word in name for word in SECRET_PARTS):
                yield f"{path}{key}", value
            yield from secret_values(value, f"{path}{key}.")
    elif isinstance(node, list):
        for value in node:
            yield from secret_values(value, path)


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_config_files_take_secrets_from_the_environment_only(name: str) -> None:
    path = servers.REPO / name
    for key, value in secret_values(yaml.safe_load(path.read_text(encoding="utf-8")) or {}):
        assert value in (None, "") or (isinstance(value, str) and ENV_REFERENCE.match(value)), (name, key)


def rasa_arguments(run: Running) -> list[str]:
    """The command line of the Rasa server that run.sh started (it listens on the run's Rasa port)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().decode().split("\0")
        except OSError:
            continue  # a process that ended meanwhile
        is_rasa = any(argument.endswith("bin/rasa") for argument in arguments[:2])
        if is_rasa and "run" in arguments and str(run.ports["rasa"]) in arguments:
            return arguments
    raise AssertionError("no Rasa process found for this run")


def test_run_sh_takes_the_api_token_from_the_environment_only(
    default_run: Running, configured_run: Running
) -> None:
    assert "--enable-api" not in rasa_arguments(default_run)
    configured = rasa_arguments(configured_run)
    assert configured.count("--auth-token") == 1
    assert configured[configured.index("--auth-token") + 1] == API_TOKEN


def test_an_empty_message_is_refused_by_make_run_too(default_run: Running) -> None:
    replies = answered(post(default_run.rasa_url, {"sender": "closed-empty", "message": " "}), "closed-empty")
    assert texts(replies) == [guard.EMPTY_MESSAGE_ANSWER]


def test_make_run_answers_in_french(default_run: Running) -> None:
    """(Ctrl-C then stops everything it started: checked when the run ends, see run_sh.)"""
    sender = "closed-hello"
    replies = answered(post(default_run.rasa_url, {"sender": sender, "message": "bonjour"}), sender)
    assert "Bienvenue" in texts(replies)[0]
