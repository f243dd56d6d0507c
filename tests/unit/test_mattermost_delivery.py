"""The channel's background answers against the Mattermost stand-in, with a scripted bot instead of Rasa:
threads, loops, retries, fallbacks and logged failures."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from rasa.core.channels.channel import UserMessage

from channels import guard
from channels.mattermost import (
    MattermostApi,
    MattermostInput,
    Question,
    Settings,
    parse_request,
)
from tests.mattermost_standin import FORM, JSON, MattermostStandin, actions_of, new_id

CALLBACK = "http://127.0.0.1:9/webhooks/mattermost/webhook"
HOOK_TOKEN = "hooktoken"
SLASH_TOKEN = "slashtoken"


class ScriptedBot:
    """Answers every message with one text (and the help buttons for "aide"), like a Rasa turn."""

    def __init__(self, delays: dict[str, float] | None = None) -> None:
        self.received: list[tuple[str, str]] = []
        self.delays = delays or {}

    async def __call__(self, message: UserMessage) -> None:
        assert message.text is not None
        self.received.append((message.sender_id, message.text))
        await asyncio.sleep(self.delays.get(message.text, 0))
        answer: dict[str, Any] = {"text": f"Réponse à : {message.text}"}
        if message.text == "aide":
            answer["buttons"] = [{"title": "Rejoindre", "payload": "/ask_join_beta"}]
        await message.output_channel.send_response(message.sender_id, answer)


@pytest.fixture(scope="module")
def standin() -> Iterator[MattermostStandin]:
    server = MattermostStandin().start()
    yield server
    server.stop()


@pytest.fixture
def mm(standin: MattermostStandin) -> Iterator[MattermostStandin]:
    yield standin
    standin.recover()


def make_channel(mm: MattermostStandin, bot_token: str | None = None, **settings: Any) -> MattermostInput:
    config = Settings(
        api_url=mm.api_url,
        bot_token=bot_token or mm.bot_token,
        webhook_tokens=(HOOK_TOKEN,),
        slash_tokens=(SLASH_TOKEN,),
        button_secret=b"secret",
        **settings,
    )
    api = MattermostApi(config.api_url, config.bot_token, retry_delays=(0, 0, 0))
    return MattermostInput(config, api=api, limits=guard.Limits())


def question(fields: dict[str, Any], content_type: str = JSON) -> Question:
    """The question the channel's route hands to ``answer`` for these request fields."""
    body = urlencode(fields).encode() if content_type == FORM else json.dumps(fields).encode()
    tokens = Settings(webhook_tokens=(HOOK_TOKEN,), slash_tokens=(SLASH_TOKEN,), button_secret=b"secret")
    parsed = parse_request(content_type, body, tokens)
    assert parsed is not None
    return parsed


def answer(channel: MattermostInput, bot: ScriptedBot, *questions: Question) -> None:
    async def run() -> None:
        try:
            await asyncio.gather(*(channel.answer(q, bot, CALLBACK) for q in questions))
        finally:
            await channel.api.close()

    asyncio.run(run())


def test_a_question_is_answered_in_its_own_thread(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour")
    bot = ScriptedBot()
    answer(make_channel(mm), bot, question(mm.webhook_payload(post, HOOK_TOKEN)))
    [reply] = mm.bot_answers(post["id"])
    assert reply["channel_id"] == room.id
    assert reply["message"] == "Réponse à : bonjour"
    assert bot.received == [(user.id, "bonjour")]


def test_a_reply_in_a_thread_is_answered_under_the_thread_root(mm: MattermostStandin) -> None:
    room, alice, bob = mm.add_channel("accueil"), mm.add_user("alice"), mm.add_user("b")
    root = mm.user_post(alice, room, "Bienvenue à Bob !")
    reply_post = mm.user_post(bob, room, "@bienvenue c'est quoi un intra ?", root_id=root["id"])
    payload = mm.webhook_payload(reply_post, HOOK_TOKEN, trigger_word="@bienvenue")
    bot = ScriptedBot()
    answer(make_channel(mm), bot, question(payload, FORM))
    answers = [post["message"] for post in mm.bot_answers(root["id"])]
    assert answers == ["Réponse à : c'est quoi un intra ?"]


@pytest.mark.parametrize(
    "author",
    ["the bot itself", "another bot", "an integration"],
)
def test_posts_of_bots_and_integrations_are_never_answered(mm: MattermostStandin, author: str) -> None:
    room = mm.add_channel("accueil")
    if author == "the bot itself":
        post = mm.user_post(mm.bot, room, "Réponse à : bonjour")
    elif author == "another bot":
        post = mm.user_post(mm.add_user("autre-bot", is_bot=True), room, "bonjour")
    else:
        integration = {"from_webhook": "true"}
        post = mm.user_post(mm.add_user("alice"), room, "bonjour", props=integration)
    bot = ScriptedBot()
    answer(make_channel(mm), bot, question(mm.webhook_payload(post, HOOK_TOKEN)))
    assert bot.received == []
    assert mm.bot_answers(post["id"]) == []


def test_the_bot_learns_its_own_id_once(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    posts = [mm.user_post(user, room, text) for text in ("un", "deux")]
    before = [call for call in mm.api_calls if call[1] == "/api/v4/users/me"]
    questions = [question(mm.webhook_payload(post, HOOK_TOKEN)) for post in posts]
    answer(make_channel(mm), ScriptedBot(), *questions)
    after = [call for call in mm.api_calls if call[1] == "/api/v4/users/me"]
    assert len(after) - len(before) == 1


def test_answers_to_one_user_come_in_the_order_of_the_questions(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    root = mm.user_post(user, room, "premier")
    second = mm.user_post(user, room, "second", root_id=root["id"])
    questions = [question(mm.webhook_payload(post, HOOK_TOKEN)) for post in (root, second)]
    for slow_step in ("lookup", "turn"):
        mm.delay(0.3 if slow_step == "lookup" else 0)  # the first question's post lookup
        bot = ScriptedBot(delays={"premier": 0.3 if slow_step == "turn" else 0})
        answer(make_channel(mm, bot_user_id=mm.bot.id), bot, *questions)
    assert [post["message"] for post in mm.bot_answers(root["id"])] == [
        "Réponse à : premier",
        "Réponse à : second",
    ] * 2


def test_buttons_are_posted_signed_and_a_click_is_answered_in_the_same_thread(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "aide")
    channel = make_channel(mm)
    answer(channel, ScriptedBot(), question(mm.webhook_payload(post, HOOK_TOKEN)))
    [menu] = mm.bot_answers(post["id"])
    [action] = actions_of(menu)
    assert action["integration"]["url"] == CALLBACK
    click = question(mm.click_payload(menu, action, user))
    bot = ScriptedBot()
    answer(make_channel(mm), bot, click)
    assert bot.received == [(user.id, "/ask_join_beta")]
    assert mm.bot_answers(post["id"])[-1]["message"] == "Réponse à : /ask_join_beta"


def test_a_slash_command_is_answered_on_its_response_url(mm: MattermostStandin) -> None:
    user = mm.add_user("alice")
    direct = mm.add_channel("alice__bob", type="D", bot_member=False)  # a DM the bot is not part of
    fields = mm.slash_payload(user, direct, "aide", SLASH_TOKEN, root_id="")
    answer(make_channel(mm), ScriptedBot(), question(fields, FORM))
    [reply] = mm.responses_for(user)
    assert reply["channel_id"] == direct.id
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Réponse à : aide")
    assert "`/bienvenue Rejoindre`" in reply["text"]


def test_an_empty_question_gets_the_guard_answer(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "@bienvenue")
    bot = ScriptedBot()
    answer(make_channel(mm), bot, question(mm.webhook_payload(post, HOOK_TOKEN, "@bienvenue")))
    assert bot.received == []
    assert [reply["message"] for reply in mm.bot_answers(post["id"])] == [guard.EMPTY_MESSAGE_ANSWER]


def test_server_errors_are_retried_until_mattermost_is_back(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour")
    channel = make_channel(mm, bot_user_id=mm.bot.id)
    mm.fail(500, count=3)  # the post lookup, then two attempts to post
    answer(channel, ScriptedBot(), question(mm.webhook_payload(post, HOOK_TOKEN)))
    assert [reply["message"] for reply in mm.bot_answers(post["id"])] == ["Réponse à : bonjour"]


def test_when_mattermost_stays_down_the_failure_is_logged_and_the_next_message_works(
    mm: MattermostStandin, caplog: pytest.LogCaptureFixture
) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    lost, later = (mm.user_post(user, room, text) for text in ("perdu", "ensuite"))
    channel = make_channel(mm, bot_user_id=mm.bot.id)
    mm.fail(503)
    with caplog.at_level(logging.WARNING, logger="channels.mattermost"):
        answer(channel, ScriptedBot(), question(mm.webhook_payload(lost, HOOK_TOKEN)))
    assert mm.bot_answers(lost["id"]) == []
    [lost_log] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert user.id in lost_log.getMessage()
    assert room.id in lost_log.getMessage()
    assert "503" in lost_log.getMessage()
    mm.recover()
    answer(channel, ScriptedBot(), question(mm.webhook_payload(later, HOOK_TOKEN)))
    assert [reply["message"] for reply in mm.bot_answers(later["id"])] == ["Réponse à : ensuite"]


def test_a_bad_bot_token_is_not_retried(mm: MattermostStandin, caplog: pytest.LogCaptureFixture) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour")
    channel = make_channel(mm, bot_token="revoked", bot_user_id=mm.bot.id)
    calls_before = len(mm.api_calls)
    with caplog.at_level(logging.ERROR, logger="channels.mattermost"):
        answer(channel, ScriptedBot(), question(mm.webhook_payload(post, HOOK_TOKEN)))
    calls = mm.api_calls[calls_before:]
    assert [(method, status) for method, _, status in calls] == [("GET", 401), ("POST", 401)]
    assert any("401" in record.getMessage() for record in caplog.records)


def test_an_unknown_thread_falls_back_to_the_channel(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour")
    payload = {**mm.webhook_payload(post, HOOK_TOKEN), "post_id": new_id()}  # a post it cannot read
    answer(make_channel(mm, bot_user_id=mm.bot.id), ScriptedBot(), question(payload))
    [reply] = [p for p in mm.api_posts if p["channel_id"] == room.id]
    assert reply["root_id"] == ""
    assert reply["message"] == "Réponse à : bonjour"
