"""The page server serves the page, the widget and the design system's files, nothing else, with a Content
Security Policy that lets the page load nothing from another site."""

from __future__ import annotations

import asyncio
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from web import serve

RASA_URL = "http://localhost:5105"


class ResourceLinks(HTMLParser):
    """The addresses of the files a page loads: scripts, style sheets and icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.urls.append(str(attributes["src"]))
        if tag == "link" and attributes.get("href"):
            self.urls.append(str(attributes["href"]))


def get(*paths: str) -> list[tuple[int, dict[str, str], bytes]]:
    async def fetch() -> list[tuple[int, dict[str, str], bytes]]:
        async with TestClient(TestServer(serve.make_app(RASA_URL, retention_days=90))) as client:
            results = []
            for path in paths:
                response = await client.get(path)
                results.append((response.status, dict(response.headers), await response.read()))
            return results

    return asyncio.run(fetch())


def page_resources() -> list[str]:
    parser = ResourceLinks()
    parser.feed((serve.WEB / "index.html").read_text(encoding="utf-8"))
    return parser.urls


def test_page_loads_only_its_own_files() -> None:
    urls = page_resources()
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls)
    assert [status for status, _, _ in get("/", *urls)] == [200] * (len(urls) + 1)


def test_files_named_by_the_design_system_styles_are_served() -> None:
    """The fonts and icons that DSFR style sheets point to (url(...) relative to each sheet)."""
    missing = []
    for url in page_resources():
        if not url.startswith("/dsfr/") or not url.endswith(".css"):
            continue
        sheet = Path(url.removeprefix("/dsfr/"))
        text = (serve.DSFR / sheet).read_text(encoding="utf-8")
        for target in set(re.findall(r"url\(\"?([^)\"]+)\"?\)", text)):
            if target.startswith("data:"):
                continue
            relative = (sheet.parent / target.split("?")[0].split("#")[0]).as_posix()
            if serve.dsfr_file(relative) is None:
                missing.append(relative)
    assert missing == []


def test_security_headers_forbid_other_sites() -> None:
    [(_, headers, _)] = get("/")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self' http://localhost:5105 ws://localhost:5105;" in policy
    assert "frame-ancestors 'none'" in policy
    assert "*" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_error_pages_also_carry_the_security_headers() -> None:
    [(status, headers, _)] = get("/nothing-here")
    assert status == 404
    assert "Content-Security-Policy" in headers


@pytest.mark.parametrize(
    "path",
    [
        "/serve.py",
        "/package.json",
        "/package-lock.json",
        "/index.html.bak",
        "/node_modules/axe-core/axe.min.js",
        "/vendor/axe.min.js",
        "/dsfr/dsfr.min.css.map",
        "/dsfr/../package.json",
        "/dsfr/%2e%2e/%2e%2e/%2e%2e/axe-core/axe.min.js",
    ],
)
def test_other_files_are_not_served(path: str) -> None:
    [(status, _, _)] = get(path)
    assert status == 404


@pytest.mark.parametrize(
    "relative",
    ["../package.json", "../../../axe-core/axe.min.js", "../../../../serve.py", "dsfr.min.css.map", "fonts"],
)
def test_design_system_lookup_stays_in_its_distribution(relative: str) -> None:
    assert serve.dsfr_file(relative) is None


def test_config_tells_the_widget_where_rasa_is() -> None:
    [(status, headers, body)] = get("/config.js")
    assert status == 200
    assert headers["Content-Type"].startswith("application/javascript")
    prefix = "window.BIENVENUE_CONFIG = "
    text = body.decode()
    assert text.startswith(prefix)
    assert json.loads(text.removeprefix(prefix).strip().rstrip(";")) == {"rasaUrl": RASA_URL}


def test_the_page_tells_the_retention_it_is_given_without_javascript() -> None:
    async def fetch() -> str:
        async with TestClient(TestServer(serve.make_app(RASA_URL, retention_days=45))) as client:
            response = await client.get("/")
            assert response.status == 200 and response.content_type == "text/html"
            return await response.text()

    page = asyncio.run(fetch())
    assert "Vos échanges sont conservés 45 jours pour améliorer l'assistant" in page
    assert serve.RETENTION_MARK not in page


def test_the_page_server_takes_its_defaults_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIENVENUE_RETENTION_DAYS", "12")
    monkeypatch.setenv("WEB_PORT", "8123")
    monkeypatch.setenv("RASA_PORT", "5123")
    launched = {}
    monkeypatch.setattr(serve.web, "run_app", lambda app, host, port: launched.update(app=app, port=port))
    monkeypatch.setattr("sys.argv", ["serve"])
    serve.main()
    assert launched["port"] == 8123
    assert launched["app"][serve.CONFIG] == {"rasa_url": "http://localhost:5123", "retention_days": 12}


def test_https_rasa_is_reached_over_secure_websockets() -> None:
    assert serve.rasa_origins("https://bot.example.gouv.fr/") == (
        "https://bot.example.gouv.fr",
        "wss://bot.example.gouv.fr",
    )


@pytest.mark.parametrize("url", ["localhost:5005", "javascript:alert(1)", "ftp://host", "http://"])
def test_rasa_url_must_be_http(url: str) -> None:
    with pytest.raises(ValueError):
        serve.rasa_origins(url)
