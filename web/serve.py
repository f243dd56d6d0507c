"""Serves Bienvenue's web page: the page, the chat widget and the few files they need from web/node_modules.

Only the files named here are served (never this script, the npm files, or axe-core, which only the tests
use), with headers that forbid loading anything from another site: the page talks to itself and to Rasa.

    .venv/bin/python -m web.serve [--port P] [--rasa-url URL] [--retention-days N]

Their defaults come from settings.py (WEB_PORT, RASA_PORT, BIENVENUE_RETENTION_DAYS).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

import settings

WEB = Path(__file__).resolve().parent
MODULES = WEB / "node_modules"
DSFR = MODULES / "@gouvfr" / "dsfr" / "dist"

# The page, served with the retention period in place of this mark: it reads right without JavaScript.
INDEX = WEB / "index.html"
RETENTION_MARK = "{{retention_days}}"
# URL path -> file, for everything but the page and the design system's files.
PAGE_FILES = {
    "/widget.js": WEB / "widget.js",
    "/widget.css": WEB / "widget.css",
    "/vendor/socket.io.min.js": MODULES / "socket.io-client" / "dist" / "socket.io.min.js",
}
# What the DSFR style sheets load: fonts, icons and the favicons.
DSFR_SUFFIXES = {".css", ".woff2", ".woff", ".svg", ".png", ".ico", ".webmanifest"}

CONFIG = web.AppKey("config", dict)


def rasa_origins(rasa_url: str) -> tuple[str, str]:
    """The HTTP and WebSocket origins of the Rasa server, for the page's connect-src."""
    parts = urlsplit(rasa_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"The Rasa URL must be an http(s) URL, not {rasa_url!r}")
    socket_scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{socket_scheme}://{parts.netloc}"


def security_headers(rasa_url: str) -> dict[str, str]:
    http_origin, socket_origin = rasa_origins(rasa_url)
    policy = "; ".join(
        [
            "default-src 'self'",
            f"connect-src 'self' {http_origin} {socket_origin}",
            "img-src 'self' data:",  # the DSFR style sheet draws a few shapes with data: SVGs
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cache-Control": "no-cache",
    }


def config_script(rasa_url: str) -> str:
    """The widget's settings, as a script the page loads before the widget."""
    return f"window.BIENVENUE_CONFIG = {json.dumps({'rasaUrl': rasa_url.rstrip('/')})};\n"


def index_page(retention_days: int) -> str:
    """The page, telling how long conversations are kept."""
    return INDEX.read_text(encoding="utf-8").replace(RETENTION_MARK, str(retention_days))


def dsfr_file(relative: str) -> Path | None:
    """The DSFR distribution file at this relative path, if it is one the page may load."""
    path = (DSFR / relative).resolve()
    if not path.is_relative_to(DSFR) or path.suffix not in DSFR_SUFFIXES or not path.is_file():
        return None
    return path


async def page_file(request: web.Request) -> web.FileResponse:
    return web.FileResponse(PAGE_FILES[request.path])


async def design_system_file(request: web.Request) -> web.FileResponse:
    path = dsfr_file(request.match_info["path"])
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path)


async def config(request: web.Request) -> web.Response:
    script = config_script(request.app[CONFIG]["rasa_url"])
    return web.Response(text=script, content_type="application/javascript")


async def index(request: web.Request) -> web.Response:
    return web.Response(text=index_page(request.app[CONFIG]["retention_days"]), content_type="text/html")


def make_app(rasa_url: str, retention_days: int) -> web.Application:
    headers = security_headers(rasa_url)

    async def add_headers(_: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)

    app = web.Application()
    app[CONFIG] = {"rasa_url": rasa_url, "retention_days": retention_days}
    app.on_response_prepare.append(add_headers)
    app.router.add_get("/", index)
    for path in PAGE_FILES:
        app.router.add_get(path, page_file)
    app.router.add_get("/config.js", config)
    app.router.add_get("/dsfr/{path:.+}", design_system_file)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serves Bienvenue's web page.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=settings.port, default=settings.value("WEB_PORT"))
    parser.add_argument(
        "--rasa-url",
        default=f"http://localhost:{settings.value('RASA_PORT')}",
        help="Rasa, as the browser reaches it",
    )
    parser.add_argument(
        "--retention-days",
        type=settings.positive_int,
        default=settings.value("BIENVENUE_RETENTION_DAYS"),
        help="how long conversations are kept, as the page tells its users",
    )
    args = parser.parse_args()
    web.run_app(make_app(args.rasa_url, args.retention_days), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
