"""Bienvenue in a Mattermost team: a real Rasa server (Mattermost and REST channels), the real action server
and the Mattermost stand-in (tests/mattermost_standin.py).

The right answer to a question is the one the REST channel gives to the same text; the thread of a bot post
(its root_id) tells which question, hence which user, it answers. Every wait is a bounded poll (a hang guard,
never a timing assertion); "nothing was posted" is checked once the channel has no answer pending.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from channels.mattermost.channel import BUSY_ANSWER
from channels.mattermost.incoming import MAX_POST_CHARS, SLASH_ACK
from channels.mattermost.settings import derive_button_secret
from channels.mattermost.signatures import sign_context
from tests import servers
from tests.integration.conftest import Bot
from tests.integration.robustness import user_texts
from tests.mattermost_standin import (
    FORM,
    JSON,
    MattermostStandin,
    User,
    actions_of,
    new_token,
    running_standin,
    wait_until,
)

HOOK_TOKEN = new_token()
SLASH_TOKEN = new_token()
# Questions of one user waiting for their answers (the burst test sends 4 per user at once).
PENDING_PER_USER = 5


@dataclass
class MattermostBot:
    base_url: str
    tracker_db: Path

    @property
    def webhook(self) -> str:
        return f"{self.base_url}/webhooks/mattermost/webhook"

    def health(self) -> requests.Response:
        return requests.get(f"{self.base_url}/webhooks/mattermost/", timeout=60)

    def wait_idle(self) -> None:
        """Waits until every accepted question has been answered (or given up on)."""
        wait_until(lambda: self.health().json()["pending"] == 0, what="no pending Mattermost answer")

    def expected(self, text: str) -> tuple[str, list[str]]:
        """What the bot answers to ``text`` in a new conversation on the REST channel: text and buttons."""
        sender = f"rest-{uuid.uuid4().hex}"
        replies = requests.post(
            f"{self.base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=300
        ).json()
        said = "\n\n".join(reply["text"] for reply in replies if reply.get("text"))
        return said, [button["title"] for reply in replies for button in reply.get("buttons") or []]


@pytest.fixture(scope="module")
def mattermost() -> Iterator[MattermostStandin]:
    with running_standin() as standin:
        yield standin


@pytest.fixture(scope="module")
def mm_bot(
    mattermost: MattermostStandin, action_server: servers.Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MattermostBot]:
    directory = tmp_path_factory.mktemp("mattermost")
    db = directory / "conversations.db"
    action_url = action_server.webhook_url
    endpoints = servers.sqlite_endpoints(directory, action_url, db)
    credentials = directory / "credentials.yml"
    credentials.write_text("channels.rest.BienvenueRestInput:\nchannels.mattermost.MattermostInput:\n")
    port = servers.free_port()
    env = {
        "MATTERMOST_URL": mattermost.api_url,
        "MATTERMOST_BOT_TOKEN": mattermost.bot_token,
        "MATTERMOST_WEBHOOK_TOKENS": f"{new_token()},{HOOK_TOKEN}",
        "MATTERMOST_SLASH_TOKENS": SLASH_TOKEN,
        # Learned from the stand-in's GET /users/me; the button key is derived from the bot token.
        "MATTERMOST_BOT_USER_ID": "",
        "MATTERMOST_BUTTON_SECRET": "",
        "MATTERMOST_CALLBACK_URL": f"http://127.0.0.1:{port}/webhooks/mattermost/webhook",
        # Mattermost's outages are retried on this schedule; the default (about 15 s) is turned down here.
        "MATTERMOST_RETRY_DELAYS_S": "0.05,0.05,0.05,0.05,0.05",
        "MATTERMOST_MAX_PENDING_PER_USER": str(PENDING_PER_USER),
    }
    server = servers.rasa_server(endpoints, credentials, port=port, name="rasa-mattermost", env=env)
    with servers.running(server):
        yield MattermostBot(base_url=server.ready_url.rstrip("/"), tracker_db=db)


@pytest.fixture
def users(mattermost: MattermostStandin) -> list[User]:
    return [mattermost.add_user(f"nouvelle-recrue-{index}") for index in range(5)]


def thread_text(mattermost: MattermostStandin, root_id: str) -> str:
    return "\n\n".join(post["message"] for post in mattermost.bot_answers(root_id))


def answered(mattermost: MattermostStandin, root_id: str, expected_text: str) -> list[dict[str, Any]]:
    """The bot's posts in the thread once they hold the whole expected answer."""
    wait_until(lambda: thread_text(mattermost, root_id) == expected_text, what=f"the answer in {root_id}")
    return mattermost.bot_answers(root_id)


def button_titles(posts: list[dict[str, Any]]) -> list[str]:
    return [action["name"] for post in posts for action in actions_of(post)]


# --- Outgoing webhooks -------------------------------------------------------------------------------------


def test_a_question_gets_the_right_answer_in_its_channel_and_thread(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    channel = mattermost.add_channel("accueil")
    question = mattermost.user_post(users[0], channel, "aide")
    reply = mattermost.send(mm_bot.webhook, mattermost.webhook_payload(question, HOOK_TOKEN), JSON)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json() == {}

    expected_text, expected_buttons = mm_bot.expected("aide")
    answered(mattermost, question["id"], expected_text)
    mm_bot.wait_idle()  # the buttons are added to the post once it exists
    posts = mattermost.bot_answers(question["id"])
    assert {post["channel_id"] for post in posts} == {channel.id}
    assert button_titles(posts) == expected_buttons
    assert expected_buttons, "the help answer offers topics as buttons"


def test_a_reply_in_a_thread_is_answered_in_that_thread_form_encoded(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    channel = mattermost.add_channel("entraide")
    root = mattermost.user_post(users[0], channel, "Bienvenue à toi !")
    question = mattermost.user_post(users[1], channel, "@bienvenue êtes-vous un robot ?", root_id=root["id"])
    payload = mattermost.webhook_payload(question, HOOK_TOKEN, trigger_word="@bienvenue")
    assert mattermost.send(mm_bot.webhook, payload, FORM).json() == {}
    expected_text, _ = mm_bot.expected("êtes-vous un robot ?")
    answered(mattermost, root["id"], expected_text)
    assert mattermost.bot_answers(question["id"]) == []


def test_a_channel_wide_hook_keeps_the_first_word(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    channel = mattermost.add_channel("questions")
    question = mattermost.user_post(users[2], channel, "besoin d'aide svp")
    reply = mattermost.send(mm_bot.webhook, mattermost.webhook_payload(question, HOOK_TOKEN), FORM)
    assert reply.json() == {}
    answered(mattermost, question["id"], mm_bot.expected("besoin d'aide svp")[0])
    assert user_texts(mm_bot.tracker_db, users[2].id)[-1] == "besoin d'aide svp"


def test_posts_of_the_bot_other_bots_and_integrations_are_ignored(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    channel = mattermost.add_channel("annonces")
    automated = [
        mattermost.user_post(mattermost.bot, channel, "Bonjour, je suis Bienvenue."),
        mattermost.user_post(mattermost.add_user("ci-bot", is_bot=True), channel, "bonjour"),
        mattermost.user_post(users[3], channel, "bonjour", props={"from_webhook": "true"}),
        mattermost.user_post(users[3], channel, "bonjour", props={"from_plugin": "true"}),
        mattermost.user_post(users[3], channel, "bonjour", props={"from_oauth_app": "true"}),
    ]
    for post in automated:
        reply = mattermost.send(mm_bot.webhook, mattermost.webhook_payload(post, HOOK_TOKEN), JSON)
        assert (reply.status_code, reply.json()) == (200, {})
    # A post whose author cannot be checked (its lookup fails) is not answered either.
    unreadable = mattermost.user_post(users[3], channel, "bonjour")
    payload = {**mattermost.webhook_payload(unreadable, HOOK_TOKEN), "post_id": new_token()}
    assert mattermost.send(mm_bot.webhook, payload, JSON).json() == {}
    mm_bot.wait_idle()
    assert [post for post in mattermost.api_posts if post["channel_id"] == channel.id] == []


def test_a_burst_of_20_questions_from_5_users_gets_20_answers_each_to_its_asker(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    channel = mattermost.add_channel("rentree")
    texts = ["bonjour", "aide", "êtes-vous un robot ?", "c'est quoi une startup d'État ?"]
    expected = {text: mm_bot.expected(text)[0] for text in texts}
    questions = [mattermost.user_post(user, channel, text) for user in users for text in texts]
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        replies = list(
            pool.map(
                lambda post: mattermost.send(mm_bot.webhook, mattermost.webhook_payload(post, HOOK_TOKEN)),
                questions,
            )
        )
    assert [reply.status_code for reply in replies] == [200] * 20
    for question in questions:
        answered(mattermost, question["id"], expected[question["message"]])
    answers = [post for post in mattermost.api_posts if post["channel_id"] == channel.id]
    assert {post["root_id"] for post in answers} == {question["id"] for question in questions}
    for user in users:
        assert sorted(user_texts(mm_bot.tracker_db, user.id)[-4:]) == sorted(texts)


# --- Refusals ----------------------------------------------------------------------------------------------


def assert_refused(reply: requests.Response, status: int) -> None:
    assert reply.status_code == status
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json()["error"]


def test_missing_or_wrong_tokens_are_refused_and_nothing_is_posted(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    channel = mattermost.add_channel("ouvert")
    question = mattermost.user_post(users[0], channel, "bonjour")
    payload = mattermost.webhook_payload(question, HOOK_TOKEN)
    without_token = {name: value for name, value in payload.items() if name != "token"}
    assert_refused(mattermost.send(mm_bot.webhook, without_token, JSON), 401)
    assert_refused(mattermost.send(mm_bot.webhook, without_token, FORM), 401)
    assert_refused(mattermost.send(mm_bot.webhook, {**payload, "token": new_token()}, JSON), 403)
    assert_refused(mattermost.send(mm_bot.webhook, {**payload, "token": new_token()}, FORM), 403)
    assert_refused(mattermost.send(mm_bot.webhook, {**payload, "token": SLASH_TOKEN}, FORM), 403)
    slash = mattermost.slash_payload(users[0], channel, "bonjour", HOOK_TOKEN)
    assert_refused(mattermost.send(mm_bot.webhook, slash, FORM), 403)
    mm_bot.wait_idle()
    assert mattermost.bot_answers(question["id"]) == []
    assert mattermost.responses_for(users[0]) == []


def test_crafted_requests_get_clean_refusals_and_nothing_is_posted(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    channel = mattermost.add_channel("bac-a-sable")
    question = mattermost.user_post(users[1], channel, "bonjour")
    payload = mattermost.webhook_payload(question, HOOK_TOKEN)
    assert_refused(mattermost.send(mm_bot.webhook, {**payload, "text": "a" * (MAX_POST_CHARS + 1)}), 413)
    assert_refused(mattermost.send(mm_bot.webhook, {**payload, "channel_id": "../../etc"}), 400)
    assert_refused(mattermost.send(mm_bot.webhook, {**payload, "text": None}), 400)
    assert_refused(mattermost.send(mm_bot.webhook, {**payload, "text": ["bonjour"]}), 400)
    for body, content_type in [
        (b"{not json", JSON),
        (b"[1, 2]", JSON),
        (b"token=x&text=bonjour", "text/plain"),
        (b"<xml/>", "application/xml"),
    ]:
        reply = requests.post(mm_bot.webhook, data=body, headers={"Content-Type": content_type}, timeout=60)
        assert_refused(reply, 415 if content_type not in (JSON, FORM) else 400)
    mm_bot.wait_idle()
    assert mattermost.bot_answers(question["id"]) == []
    assert mm_bot.health().json()["status"] == "ok"


# --- Mattermost failing ------------------------------------------------------------------------------------


def test_mattermost_answering_500_then_recovering(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    channel = mattermost.add_channel("panne")
    expected_text, _ = mm_bot.expected("bonjour")

    # A short outage: the answer is retried until it is posted.
    mattermost.fail(500, count=3)
    first = mattermost.user_post(users[0], channel, "bonjour")
    mattermost.send(mm_bot.webhook, mattermost.webhook_payload(first, HOOK_TOKEN))
    answered(mattermost, first["id"], expected_text)
    assert sum(status == 500 for _, _, status in mattermost.api_calls) >= 3

    # A long outage of posting: the answer is given up on after the retries (and logged); the server keeps
    # serving.
    mattermost.fail(500, only="POST /api/v4/posts")
    lost = mattermost.user_post(users[1], channel, "bonjour")
    reply = mattermost.send(mm_bot.webhook, mattermost.webhook_payload(lost, HOOK_TOKEN))
    assert (reply.status_code, reply.json()) == (200, {})
    mm_bot.wait_idle()
    mattermost.recover()
    assert mattermost.bot_answers(lost["id"]) == []

    # Back up: the next questions are answered again.
    after = mattermost.user_post(users[1], channel, "bonjour")
    mattermost.send(mm_bot.webhook, mattermost.webhook_payload(after, HOOK_TOKEN))
    answered(mattermost, after["id"], expected_text)


def test_questions_waiting_for_mattermost_are_bounded_and_the_next_one_is_told_at_once(
    mm_bot: MattermostBot, mattermost: MattermostStandin
) -> None:
    channel = mattermost.add_channel("affluence")
    user = mattermost.add_user("pressee")
    mattermost.hang(only="POST /api/v4/posts")  # every answer waits for Mattermost
    try:
        accepted = [mattermost.user_post(user, channel, "bonjour") for _ in range(PENDING_PER_USER)]
        for post in accepted:
            assert mattermost.send(mm_bot.webhook, mattermost.webhook_payload(post, HOOK_TOKEN)).json() == {}
        refused = mattermost.user_post(user, channel, "bonjour")
        reply = mattermost.send(mm_bot.webhook, mattermost.webhook_payload(refused, HOOK_TOKEN))
        # Mattermost posts this itself, in the question's thread: no API call, which would wait too.
        assert (reply.status_code, reply.json()) == (200, {"text": BUSY_ANSWER, "response_type": "comment"})
    finally:
        mattermost.recover()
    for post in accepted:
        wait_until(lambda post=post: mattermost.bot_answers(post["id"]), what="each accepted answer")
    mm_bot.wait_idle()
    assert mattermost.bot_answers(refused["id"]) == []


# --- Slash command and buttons -----------------------------------------------------------------------------


def test_the_slash_command_answers_in_a_direct_message(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    direct = mattermost.add_channel(f"{users[0].id}__{users[1].id}", type="D", bot_member=False)
    fields = mattermost.slash_payload(users[4], direct, "aide", SLASH_TOKEN)
    reply = mattermost.send(mm_bot.webhook, fields, FORM)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    ack = reply.json()
    assert ack["response_type"] == "ephemeral"
    assert "aide" in ack["text"]

    expected_text, expected_buttons = mm_bot.expected("aide")
    [answer] = wait_until(lambda: mattermost.responses_for(users[4]), what="the slash command's answer")
    assert answer["channel_id"] == direct.id
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(expected_text)
    for title in expected_buttons:
        assert f"`/bienvenue {title}`" in answer["text"]


def test_the_slash_command_answers_only_on_mattermosts_address_and_quotes_the_cleaned_question(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    direct = mattermost.add_channel(f"{users[0].id}__{users[2].id}", type="D", bot_member=False)
    with running_standin() as elsewhere:  # a server that is not MATTERMOST_URL
        fields = elsewhere.slash_payload(users[0], direct, "bonjour", SLASH_TOKEN)
        reply = mattermost.send(mm_bot.webhook, fields, FORM)
        assert_refused(reply, 400)
        assert reply.json()["error"] == "foreign_response_url"
        mm_bot.wait_idle()
        assert elsewhere.command_responses == []

    fields = mattermost.slash_payload(users[0], direct, "<b>[aide](https://evil.example)</b>", SLASH_TOKEN)
    ack = mattermost.send(mm_bot.webhook, fields, FORM).json()
    assert ack["text"] == SLASH_ACK.format(question="‹b›(aide)(https://evil.example)‹/b›")
    wait_until(lambda: mattermost.responses_for(users[0]), what="the slash command's answer")


def test_a_signed_button_click_is_answered_and_a_forged_one_refused(
    mm_bot: MattermostBot, mattermost: MattermostStandin, users: list[User]
) -> None:
    channel = mattermost.add_channel("boutons")
    question = mattermost.user_post(users[2], channel, "aide")
    mattermost.send(mm_bot.webhook, mattermost.webhook_payload(question, HOOK_TOKEN))
    answered(mattermost, question["id"], mm_bot.expected("aide")[0])
    mm_bot.wait_idle()  # the buttons are added to the post once it exists
    [menu] = mattermost.bot_answers(question["id"])
    action = actions_of(menu)[0]
    payload = action["integration"]["context"]["action"]
    assert action["integration"]["url"] == mm_bot.webhook

    # Forged: another payload, another channel, a context signed with another key.
    click = mattermost.click_payload(menu, action, users[2])
    forged_context = {**click["context"], "action": "/ask_funding"}
    assert_refused(mattermost.send(mm_bot.webhook, {**click, "context": forged_context}), 403)
    other_channel = mattermost.add_channel("ailleurs")
    assert_refused(mattermost.send(mm_bot.webhook, {**click, "channel_id": other_channel.id}), 403)
    later = int(time.time()) + 3600
    place = (channel.id, question["id"], users[2].id, menu["id"])
    own_key = sign_context(b"guessed key", payload, *place, later)
    assert_refused(mattermost.send(mm_bot.webhook, {**click, "context": own_key}), 403)
    # Replayed by someone else, or on another post; expired (signed with the bot's real key).
    assert_refused(mattermost.send(mm_bot.webhook, mattermost.click_payload(menu, action, users[3])), 403)
    other_post = mattermost.user_post(users[2], channel, "autre")
    assert_refused(mattermost.send(mm_bot.webhook, {**click, "post_id": other_post["id"]}), 403)
    secret = derive_button_secret(mattermost.bot_token)
    expired = sign_context(secret, payload, *place, int(time.time()) - 1)
    reply = mattermost.send(mm_bot.webhook, {**click, "context": expired})
    assert_refused(reply, 403)
    assert reply.json()["error"] == "expired_button"
    mm_bot.wait_idle()
    assert len(mattermost.bot_answers(question["id"])) == 1

    # Genuine: answered in the same thread, like the payload sent on the REST channel.
    reply = mattermost.send(mm_bot.webhook, click)
    assert (reply.status_code, reply.json()) == (200, {})
    expected_text = mm_bot.expected("aide")[0] + "\n\n" + mm_bot.expected(payload)[0]
    answered(mattermost, question["id"], expected_text)


# --- Not configured ----------------------------------------------------------------------------------------


@pytest.mark.skipif("MATTERMOST_URL" in os.environ, reason="this environment configures Mattermost")
def test_without_configuration_the_routes_refuse_and_the_server_runs(bot: Bot) -> None:
    health = requests.get(f"{bot.base_url}/webhooks/mattermost/", timeout=60)
    assert health.status_code == 503
    assert "MATTERMOST_URL" in health.json()["message"]
    webhook = requests.post(f"{bot.base_url}/webhooks/mattermost/webhook", json={"token": "x"}, timeout=60)
    assert webhook.status_code == 503
    assert "Bienvenue" in "\n".join(reply.get("text", "") for reply in bot.send("mm-unconfigured", "bonjour"))
