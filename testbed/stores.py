"""Real PostgreSQL, Redis and nginx servers on free loopback ports (multi-instance test and benchmark).

Each one lives in its own temporary directory, logs to results/logs/ and is stopped (and its directory
removed) when its context ends, even on failure. PostgreSQL refuses to run as root: as root, it runs as the
`postgres` user that the Debian package creates, in a directory that user owns.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from testbed import servers

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
PG_USER = "bienvenue"
PG_DATABASE = "bienvenue"


@dataclass
class Service(servers.Server):
    """A server that is ready when `probe` succeeds (its address is not an HTTP URL)."""

    probe: Callable[[], bool] = lambda: False
    address: tuple[str, int] = ("127.0.0.1", 0)

    def is_ready(self) -> bool:
        return self.probe()


def tcp_open(port: int) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    return probe


def _as_service_user(directory: Path) -> list[str]:
    """The command prefix that runs PostgreSQL as a non-root user owning `directory`."""
    if os.geteuid() != 0:
        return []
    shutil.chown(directory, user="postgres", group="postgres")
    return ["runuser", "-u", "postgres", "--"]


@contextmanager
def temporary_directory(prefix: str) -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def postgresql(name: str = "postgresql") -> Iterator[Service]:
    """A fresh PostgreSQL cluster with an empty `bienvenue` database owned by the `bienvenue` role."""
    import psycopg2

    if not PG_BIN:
        raise RuntimeError("PostgreSQL is not installed: run scripts/setup-test-system.sh")
    bin_dir = PG_BIN[-1]
    port = servers.free_port()
    with temporary_directory("bienvenue-pg-") as directory:
        as_user = _as_service_user(directory)
        data = directory / "data"
        servers.LOG_DIR.mkdir(parents=True, exist_ok=True)
        with (servers.LOG_DIR / f"{name}.log").open("ab") as log:
            subprocess.run(
                [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust",
                 "-E", "UTF8", "--locale=C"],
                stdout=log, stderr=subprocess.STDOUT, check=True,
            )

        def accepts_connections() -> bool:
            try:
                psycopg2.connect(
                    host="127.0.0.1", port=port, user=PG_USER, dbname="postgres", connect_timeout=2
                ).close()
                return True
            except psycopg2.OperationalError:
                return False

        service = Service(
            name=name,
            # Unix sockets go into the temporary directory: the system one may not exist or be writable.
            command=[*as_user, str(bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                     "-p", str(port), "-k", str(directory)],
            ready_url=f"postgresql://{PG_USER}@127.0.0.1:{port}/{PG_DATABASE}",
            probe=accepts_connections,
            stop_signal=signal.SIGINT,  # "fast" shutdown: does not wait for clients to disconnect
            address=("127.0.0.1", port),
        )
        with servers.running(service):
            connection = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres")
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {PG_DATABASE}")
            connection.close()
            yield service


@contextmanager
def redis_server(name: str = "redis") -> Iterator[Service]:
    """A Redis server without persistence (locks only live as long as the test)."""
    import redis

    port = servers.free_port()

    def answers_ping() -> bool:
        try:
            return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping())
        except redis.exceptions.ConnectionError:
            return False

    with temporary_directory("bienvenue-redis-") as directory:
        service = Service(
            name=name,
            command=["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                     "--appendonly", "no", "--dir", str(directory)],
            ready_url=f"redis://127.0.0.1:{port}",
            probe=answers_ping,
            address=("127.0.0.1", port),
        )
        with servers.running(service):
            yield service


def nginx_config(directory: Path, port: int, upstreams: Sequence[str]) -> str:
    """Round-robin HTTP proxy; the X-Upstream response header says which instance answered."""
    servers_lines = "\n".join(f"    server {upstream};" for upstream in upstreams)
    temp = {kind: directory / kind for kind in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    return f"""
daemon off;
worker_processes 1;
pid {directory / "nginx.pid"};
error_log stderr warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {temp["body"]};
  proxy_temp_path {temp["proxy"]};
  fastcgi_temp_path {temp["fastcgi"]};
  uwsgi_temp_path {temp["uwsgi"]};
  scgi_temp_path {temp["scgi"]};
  upstream rasa {{
{servers_lines}
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://rasa;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 300s;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


@contextmanager
def nginx(upstreams: Sequence[str], name: str = "nginx") -> Iterator[Service]:
    """nginx spreading requests round-robin over `upstreams` ("127.0.0.1:port" each)."""
    port = servers.free_port()
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    with temporary_directory("bienvenue-nginx-") as directory:
        config = directory / "nginx.conf"
        config.write_text(nginx_config(directory, port, upstreams), encoding="utf-8")
        service = Service(
            name=name,
            command=[binary, "-e", "stderr", "-p", str(directory), "-c", str(config)],
            ready_url=f"http://127.0.0.1:{port}/",
            probe=tcp_open(port),
            stop_signal=signal.SIGQUIT,  # graceful: lets answers in flight finish
            address=("127.0.0.1", port),
        )
        with servers.running(service):
            yield service


def production_env(pg: Service, redis: Service, action_url: str) -> dict[str, str]:
    """The environment variables that endpoints.production.yml reads, pointing at these servers."""
    return {
        "ACTION_SERVER_URL": action_url,
        "BIENVENUE_PG_HOST": pg.address[0],
        "BIENVENUE_PG_PORT": str(pg.address[1]),
        "BIENVENUE_PG_DB": PG_DATABASE,
        "BIENVENUE_PG_USER": PG_USER,
        "BIENVENUE_PG_PASSWORD": "",
        "BIENVENUE_REDIS_HOST": redis.address[0],
        "BIENVENUE_REDIS_PORT": str(redis.address[1]),
        "BIENVENUE_REDIS_PASSWORD": "",
        "BIENVENUE_REDIS_DB": "1",
    }
