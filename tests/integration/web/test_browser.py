"""The page and its chat widget in a real browser (Debian's Chromium driven by Playwright), against real Rasa
and action servers: questions, links, buttons, reload, keyboard only, phone and 200 % zoom, accessibility
check (axe-core), unreachable server. Screenshots and the axe report are kept in results/."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

import settings
from tests import servers
from tests.integration.web.conftest import WebStack
from tests.integration.web.proxy import TcpProxy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"
]
RESULTS = servers.REPO / "results"
SCREENSHOTS = RESULTS / "screenshots"
AXE = servers.REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
ANSWER_TIMEOUT_MS = 120_000  # hang guard, never a pass/fail criterion
QUESTION = "c'est quoi un intrapreneur ?"
# The page server's default, as it runs here (its environment has no BIENVENUE_RETENTION_DAYS).
RETENTION = (
    f"Vos échanges sont conservés {settings.value('BIENVENUE_RETENTION_DAYS', {})} jours pour améliorer "
    "l'assistant, sans autre donnée personnelle."
)
OFFLINE = "Le serveur de l'assistant est injoignable"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Chromium is missing: scripts/setup-test-system.sh installs it"
    expect.set_options(timeout=ANSWER_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """One browser context on the page, recording what should never happen: console errors (CSP violations
    among them) and requests to anything but the page's server and Rasa."""

    def __init__(self, browser: Browser, stack: WebStack, **context_options: object) -> None:
        self.stack = stack
        self.context = browser.new_context(locale="fr-FR", **context_options)  # type: ignore[arg-type]
        self.context.set_default_timeout(ANSWER_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        allowed_hosts = {urlsplit(stack.origin).netloc, urlsplit(stack.rasa_url).netloc}
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on(
            "request",
            lambda r: r.url.startswith("data:")
            or urlsplit(r.url).netloc in allowed_hosts
            or self.problems.append(f"request to {r.url}"),
        )
        self.page.goto(stack.page_url)

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log", name="Conversation avec Bienvenue")

    @property
    def input(self) -> Locator:
        return self.page.get_by_role("textbox", name="Votre question")

    @property
    def user_messages(self) -> Locator:
        return self.log.locator(".bienvenue-message--user")

    @property
    def bot_messages(self) -> Locator:
        return self.log.locator(".bienvenue-message--bot:not(.bienvenue-message--intro)")

    def open_widget(self) -> None:
        self.page.get_by_role("button", name="Poser une question", exact=True).click()
        expect(self.input).to_be_focused()

    def ask(self, text: str) -> None:
        """Sends `text` and waits for the first reply."""
        replies = self.bot_messages.count()
        self.input.fill(text)
        self.input.press("Enter")
        expect(self.bot_messages).not_to_have_count(replies)

    def wait_for_new_reply(self, replies_before: int) -> None:
        expect(self.bot_messages).not_to_have_count(replies_before)

    def answer_link(self) -> Locator:
        link = self.log.locator("a[href^='https://']").last
        expect(link).to_be_visible()
        return link

    def feedback(self) -> Locator:
        group = self.log.get_by_role("group", name="Votre avis sur cette réponse").last
        expect(group).to_be_visible()
        return group

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png")

    def assert_fits_viewport(self) -> None:
        assert self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        for control in (self.input, self.page.get_by_role("button", name="Envoyer")):
            expect(control).to_be_in_viewport()

    def session_id(self) -> str:
        return json.loads(self.page.evaluate("localStorage.getItem('bienvenue.session')"))


@pytest.fixture
def visits(browser: Browser, web_stack: WebStack) -> Iterator[list[Visit]]:
    opened: list[Visit] = []
    yield opened
    for visit in opened:
        visit.context.close()


@pytest.fixture
def desktop(browser: Browser, web_stack: WebStack, visits: list[Visit]) -> Visit:
    visit = Visit(browser, web_stack, viewport={"width": 1280, "height": 800})
    visits.append(visit)
    return visit


# Stands in for socket.io-client: confirms the session, records what the widget sends and lets the test play
# the bot's messages, so that rendering is checked on exactly the messages the test chooses.
FAKE_SOCKET_IO = """
window.sent = [];
window.io = () => {
  const handlers = {};
  const socket = {
    on(event, handler) { handlers[event] = handler; return socket; },
    emit(event, data) {
      if (event === "session_request") setTimeout(() => handlers.session_confirm("0123456789abcdef"));
      if (event === "user_uttered") window.sent.push(data);
    },
  };
  window.botSays = (message) => handlers.bot_uttered(message);
  setTimeout(() => handlers.connect());
  return socket;
};
"""


@pytest.fixture(scope="module")
def page_only() -> Iterator[str]:
    """The page server alone, its widget pointing at a Rasa that the tests replace in the browser."""
    port = servers.free_port()
    page = servers.Server(
        name="web-alone",
        command=[
            str(servers.VENV_BIN / "python"), "-m", "web.serve",
            "--port", str(port), "--rasa-url", "http://127.0.0.1:9",
        ],
        ready_url=f"http://127.0.0.1:{port}/",
    )
    with servers.running(page):
        yield page.ready_url


def user_turns(stack: WebStack, session_id: str) -> int:
    with sqlite3.connect(stack.tracker_db) as db:
        query = "SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'user'"
        return db.execute(query, (session_id,)).fetchone()[0]


def focus_outline(page: Page) -> tuple[str, float]:
    return tuple(
        page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
    )


def assert_focus_visible(page: Page) -> None:
    style, width = focus_outline(page)
    assert style != "none" and width >= 1, f"no visible focus ring ({style} {width}px)"


def test_question_gets_an_answer_with_a_link(desktop: Visit) -> None:
    desktop.open_widget()
    expect(desktop.page.get_by_text(RETENTION)).to_be_visible()
    desktop.ask(QUESTION)
    expect(desktop.user_messages).to_have_text(f"Vous : {QUESTION}")
    link = desktop.answer_link()
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in (link.get_attribute("rel") or "")
    expect(desktop.page.locator("[data-bienvenue-typing]")).to_be_hidden()
    desktop.screenshot("desktop")
    assert desktop.problems == []


def test_buttons_send_their_payload_and_stay_clickable(desktop: Visit) -> None:
    desktop.open_widget()
    desktop.ask(QUESTION)
    feedback = desktop.feedback()
    useful = feedback.get_by_role("button", name="Utile", exact=True)
    not_useful = feedback.get_by_role("button", name="Pas utile", exact=True)
    expect(useful).to_have_attribute("aria-pressed", "false")

    replies = desktop.bot_messages.count()
    useful.click()
    expect(useful).to_have_attribute("aria-pressed", "true")
    desktop.wait_for_new_reply(replies)

    replies = desktop.bot_messages.count()
    not_useful.click()
    expect(not_useful).to_have_attribute("aria-pressed", "true")
    expect(useful).to_have_attribute("aria-pressed", "false")
    desktop.wait_for_new_reply(replies)
    assert user_turns(desktop.stack, desktop.session_id()) == 3
    assert desktop.problems == []


def test_menu_button_gets_its_answer(desktop: Visit) -> None:
    desktop.open_widget()
    desktop.ask("que peux-tu faire ?")
    choice = desktop.log.locator(".bienvenue-choices button").first
    expect(choice).to_be_visible()
    title = choice.inner_text()
    replies = desktop.bot_messages.count()
    choice.click()
    expect(desktop.user_messages.last).to_have_text(f"Vous : {title}")
    desktop.wait_for_new_reply(replies)
    expect(choice).to_be_enabled()
    assert desktop.problems == []


def test_reload_shows_the_history_and_continues_the_conversation(desktop: Visit) -> None:
    desktop.open_widget()
    desktop.ask(QUESTION)
    desktop.answer_link()
    messages = desktop.log.locator(".bienvenue-message")
    before = messages.all_text_contents()
    session_id = desktop.session_id()

    desktop.page.reload()
    expect(desktop.log).to_be_visible()  # the widget stays open after a reload
    expect(messages).to_have_text(before)
    desktop.ask("merci")
    assert desktop.session_id() == session_id
    assert user_turns(desktop.stack, session_id) == 2
    assert desktop.problems == []


def test_clear_starts_a_new_conversation(desktop: Visit) -> None:
    desktop.open_widget()
    desktop.ask("bonjour")
    first_session = desktop.session_id()
    desktop.page.get_by_role("button", name="Effacer la conversation").click()
    expect(desktop.bot_messages).to_have_count(0)
    expect(desktop.user_messages).to_have_count(0)
    desktop.ask("bonjour")
    assert desktop.session_id() != first_session
    assert desktop.problems == []


def test_keyboard_only(desktop: Visit) -> None:
    page = desktop.page
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.hasAttribute('data-bienvenue-open')"):
            break
    opener = page.locator("main [data-bienvenue-open]")
    expect(opener).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(desktop.input).to_be_focused()
    assert_focus_visible(page)

    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    desktop.answer_link()
    useful = desktop.feedback().get_by_role("button", name="Utile", exact=True)
    for _ in range(10):  # backwards from the input, into the conversation
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent.trim() === 'Utile'"):
            break
    expect(useful).to_be_focused()
    assert_focus_visible(page)
    replies = desktop.bot_messages.count()
    page.keyboard.press("Space")
    expect(useful).to_have_attribute("aria-pressed", "true")
    desktop.wait_for_new_reply(replies)

    page.keyboard.press("Escape")
    expect(desktop.log).to_be_hidden()
    expect(opener).to_be_focused()
    assert desktop.problems == []


def test_no_serious_accessibility_violation(
    browser: Browser, web_stack: WebStack, visits: list[Visit]
) -> None:
    # axe-core is injected as an inline script, which the page's Content Security Policy rightly forbids.
    visit = Visit(browser, web_stack, viewport={"width": 1280, "height": 800}, bypass_csp=True)
    visits.append(visit)
    report = {"closed": axe(visit.page)}
    visit.open_widget()
    visit.ask(QUESTION)
    visit.answer_link()
    report["open"] = axe(visit.page)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "axe.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    serious = [v for found in report.values() for v in found if v["impact"] in ("serious", "critical")]
    assert serious == []


def axe(page: Page) -> list[dict]:
    page.add_script_tag(path=AXE)
    return page.evaluate(
        """async () => (await axe.run(document)).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")),
        }))"""
    )


def test_phone(browser: Browser, web_stack: WebStack, visits: list[Visit]) -> None:
    phone = Visit(
        browser, web_stack, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        device_scale_factor=2,
    )
    visits.append(phone)
    phone.open_widget()
    phone.ask(QUESTION)
    phone.answer_link()
    phone.assert_fits_viewport()
    phone.screenshot("phone")
    assert phone.problems == []


def test_zoom_200_percent(browser: Browser, web_stack: WebStack, visits: list[Visit]) -> None:
    # A 1280 x 800 window zoomed to 200 % lays the page out in 640 x 400 CSS pixels.
    zoomed = Visit(browser, web_stack, viewport={"width": 640, "height": 400}, device_scale_factor=2)
    visits.append(zoomed)
    assert zoomed.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    zoomed.open_widget()
    zoomed.ask(QUESTION)
    zoomed.answer_link()
    zoomed.assert_fits_viewport()
    expect(zoomed.page.get_by_role("button", name="Fermer")).to_be_in_viewport()
    zoomed.screenshot("zoom-200")
    assert zoomed.problems == []


def test_unreachable_server_is_announced_then_reconnected(
    browser: Browser, web_stack: WebStack, visits: list[Visit]
) -> None:
    proxy = TcpProxy(target_port=urlsplit(web_stack.rasa_url).port or 80)
    try:
        # The page talks to Rasa through the proxy, which the test stops and starts; the page's Content
        # Security Policy only names the real Rasa port, hence bypass_csp here.
        visit = Visit(browser, web_stack, viewport={"width": 1280, "height": 800}, bypass_csp=True)
        visits.append(visit)
        config = f"window.BIENVENUE_CONFIG = {json.dumps({'rasaUrl': f'http://127.0.0.1:{proxy.port}'})};"
        visit.page.route(
            "**/config.js", lambda route: route.fulfill(body=config, content_type="application/javascript")
        )
        visit.page.reload()
        status = visit.page.get_by_role("status").filter(has_text=OFFLINE)

        visit.open_widget()
        expect(status).to_be_visible()
        visit.input.fill("bonjour")
        visit.input.press("Enter")  # kept until the server is back
        typing = visit.page.locator("[data-bienvenue-typing]")
        expect(typing).to_be_visible()
        visit.screenshot("offline")

        proxy.start()
        expect(status).to_be_hidden()
        expect(visit.bot_messages).not_to_have_count(0)
        expect(typing).to_be_hidden()

        proxy.stop()
        expect(status).to_be_visible()
        proxy.start()
        expect(status).to_be_hidden()
        visit.ask("merci")
    finally:
        proxy.close()


def test_texts_render_as_text_with_https_links_and_feedback(browser: Browser, page_only: str) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.route(
            "**/vendor/socket.io.min.js",
            lambda route: route.fulfill(body=FAKE_SOCKET_IO, content_type="application/javascript"),
        )
        page.goto(page_only)
        page.get_by_role("button", name="Poser une question", exact=True).click()
        log = page.get_by_role("log", name="Conversation avec Bienvenue")
        hostile = '<img src="x" onerror="window.pwned = 1"> **gras** [piège](javascript:alert(1)) [http](http://a.fr)'
        page.get_by_role("textbox", name="Votre question").fill(hostile)
        page.keyboard.press("Enter")
        expect(log.locator(".bienvenue-message--user")).to_have_text(f"Vous : {hostile}")
        page.evaluate("text => botSays({text})", hostile)
        page.evaluate(
            """botSays({
                text: "Pour aller plus loin : [L'approche](https://beta.gouv.fr/approche/)",
                quick_replies: [
                    {content_type: "text", title: "👍", payload: "/feedback_positive"},
                    {content_type: "text", title: "👎", payload: "/feedback_negative"},
                ],
            })"""
        )
        expect(log.locator(".bienvenue-message--bot").nth(1)).to_have_text(f"Bienvenue : {hostile}")
        assert log.locator("img").count() == 0
        assert page.evaluate("window.pwned") is None
        links = log.get_by_role("link")
        expect(links).to_have_count(1)
        expect(links).to_have_attribute("href", "https://beta.gouv.fr/approche/")
        expect(links).to_have_accessible_name("L'approche (nouvelle fenêtre)")

        feedback = log.get_by_role("group", name="Votre avis sur cette réponse")
        useful = feedback.get_by_role("button", name="Utile", exact=True)
        not_useful = feedback.get_by_role("button", name="Pas utile", exact=True)
        expect(useful).to_have_attribute("aria-pressed", "false")
        useful.click()
        expect(useful).to_have_attribute("aria-pressed", "true")
        not_useful.click()
        expect(not_useful).to_have_attribute("aria-pressed", "true")
        expect(useful).to_have_attribute("aria-pressed", "false")
        assert page.evaluate("window.sent") == [
            {"message": hostile, "session_id": "0123456789abcdef"},
            {"message": "/feedback_positive", "session_id": "0123456789abcdef"},
            {"message": "/feedback_negative", "session_id": "0123456789abcdef"},
        ]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "rendering.png")
        page.reload()  # the feedback given is part of the history
        pressed = log.get_by_role("button", name="Pas utile", exact=True)
        expect(pressed).to_have_attribute("aria-pressed", "true")
    finally:
        context.close()
