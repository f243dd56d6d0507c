"""The channel's background answers against the Mattermost stand-in, with a scripted bot instead of Rasa:
threads, loops, retries, fallbacks, logged failures, and refusing to answer when a check cannot be made."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from rasa.core.channels.channel import UserMessage

from channels import guard
from channels.body import RequestError
from channels.guard import Guard
from channels.mattermost import MattermostInput
from channels.mattermost.api import MattermostApi
from channels.mattermost.channel import BUSY_ANSWER, busy_reply
from channels.mattermost.incoming import Kind, Question, parse_request
from channels.mattermost.posting import CHOICES_INTRO
from channels.mattermost.settings import Settings
from tests.mattermost_standin import FORM, JSON, MattermostStandin, User, actions_of, new_id

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


def make_channel(
    mm: MattermostStandin, bot_token: str | None = None, timeout_s: float = 10, **settings: Any
) -> MattermostInput:
    config = Settings(
        **{
            "api_url": mm.api_url,
            "bot_token": bot_token or mm.bot_token,
            "webhook_tokens": (HOOK_TOKEN,),
            "slash_tokens": (SLASH_TOKEN,),
            "button_secret": b"secret",
            "callback_url": CALLBACK,
            **settings,
        }
    )
    api = MattermostApi(config.api_url, config.bot_token, retry_delays=(0, 0, 0), timeout_s=timeout_s)
    return MattermostInput(config, api=api, limits=guard.Limits())


def question(mm: MattermostStandin, fields: dict[str, Any], content_type: str = JSON) -> Question:
    """The question the channel's route hands to ``answer`` for these request fields."""
    body = urlencode(fields).encode() if content_type == FORM else json.dumps(fields).encode()
    settings = Settings(
        api_url=mm.api_url, webhook_tokens=(HOOK_TOKEN,), slash_tokens=(SLASH_TOKEN,), button_secret=b"secret"
    )
    parsed = parse_request(content_type, body, settings, now=time.time())
    assert parsed is not None
    return parsed


def answer(channel: MattermostInput, bot: ScriptedBot, *questions: Question) -> None:
    async def run() -> None:
        guarded = Guard("mattermost", guard.Limits()).connect(bot)
        try:
            await asyncio.gather(*(channel.answer(q, guarded) for q in questions))
        finally:
            await channel.api.close()

    asyncio.run(run())


def test_a_question_is_answered_in_its_own_thread(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour")
    bot = ScriptedBot()
    answer(make_channel(mm), bot, question(mm, mm.webhook_payload(post, HOOK_TOKEN)))
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
    answer(make_channel(mm), bot, question(mm, payload, FORM))
    answers = [post["message"] for post in mm.bot_answers(root["id"])]
    assert answers == ["Réponse à : c'est quoi un intra ?"]


@pytest.mark.parametrize(
    "author",
    ["the bot itself", "another bot", "from_webhook", "from_plugin", "from_oauth_app"],
)
def test_posts_of_bots_and_integrations_are_never_answered(mm: MattermostStandin, author: str) -> None:
    room = mm.add_channel("accueil")
    if author == "the bot itself":
        post = mm.user_post(mm.bot, room, "Réponse à : bonjour")
    elif author == "another bot":
        post = mm.user_post(mm.add_user("autre-bot", is_bot=True), room, "bonjour")
    else:  # an integration posting as a user (Mattermost marks the post with this prop)
        post = mm.user_post(mm.add_user("alice"), room, "bonjour", props={author: "true"})
    bot = ScriptedBot()
    answer(make_channel(mm), bot, question(mm, mm.webhook_payload(post, HOOK_TOKEN)))
    assert bot.received == []
    assert mm.bot_answers(post["id"]) == []


def test_the_bot_learns_its_own_id_once(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    posts = [mm.user_post(user, room, text) for text in ("un", "deux")]
    before = [call for call in mm.api_calls if call[1] == "/api/v4/users/me"]
    questions = [question(mm, mm.webhook_payload(post, HOOK_TOKEN)) for post in posts]
    answer(make_channel(mm), ScriptedBot(), *questions)
    after = [call for call in mm.api_calls if call[1] == "/api/v4/users/me"]
    assert len(after) - len(before) == 1


def test_answers_to_one_user_come_in_the_order_of_the_questions(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    root = mm.user_post(user, room, "premier")
    second = mm.user_post(user, room, "second", root_id=root["id"])
    questions = [question(mm, mm.webhook_payload(post, HOOK_TOKEN)) for post in (root, second)]
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
    answer(channel, ScriptedBot(), question(mm, mm.webhook_payload(post, HOOK_TOKEN)))
    [menu] = mm.bot_answers(post["id"])
    [action] = actions_of(menu)
    assert action["integration"]["url"] == CALLBACK
    click = question(mm, mm.click_payload(menu, action, user))
    bot = ScriptedBot()
    answer(make_channel(mm), bot, click)
    assert bot.received == [(user.id, "/ask_join_beta")]
    assert mm.bot_answers(post["id"])[-1]["message"] == "Réponse à : /ask_join_beta"


def test_a_button_answers_only_the_user_who_asked_on_the_post_it_was_sent_on(mm: MattermostStandin) -> None:
    room, alice, bob = mm.add_channel("accueil"), mm.add_user("alice"), mm.add_user("bob")
    post = mm.user_post(alice, room, "aide")
    answer(make_channel(mm), ScriptedBot(), question(mm, mm.webhook_payload(post, HOOK_TOKEN)))
    [menu] = mm.bot_answers(post["id"])
    [action] = actions_of(menu)
    with pytest.raises(RequestError) as someone_else:
        question(mm, mm.click_payload(menu, action, bob))
    other_post = mm.user_post(mm.bot, room, "autre menu", root_id=post["id"])
    with pytest.raises(RequestError) as moved:
        question(mm, {**mm.click_payload(menu, action, alice), "post_id": other_post["id"]})
    assert (someone_else.value.status, moved.value.status) == (403, 403)


def test_without_a_callback_url_there_are_no_buttons_but_choices_to_type(
    mm: MattermostStandin, caplog: pytest.LogCaptureFixture
) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "@bienvenue aide")
    calls_before = len(mm.api_calls)
    with caplog.at_level(logging.INFO, logger="channels.mattermost"):
        channel = make_channel(mm, callback_url="")
        answer(channel, ScriptedBot(), question(mm, mm.webhook_payload(post, HOOK_TOKEN, "@bienvenue")))
    [reply] = mm.bot_answers(post["id"])
    assert actions_of(reply) == []
    assert reply["message"] == "Réponse à : aide\n\n" + CHOICES_INTRO + "\n- `@bienvenue Rejoindre`"
    assert any("MATTERMOST_CALLBACK_URL" in record.getMessage() for record in caplog.records)
    assert [method for method, _, _ in mm.api_calls[calls_before:]] == ["GET", "GET", "POST"]  # no PUT


def test_when_buttons_cannot_be_added_their_choices_are_posted_as_text(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "aide")
    mm.fail(500, only="PUT ")
    channel = make_channel(mm, bot_user_id=mm.bot.id)
    answer(channel, ScriptedBot(), question(mm, mm.webhook_payload(post, HOOK_TOKEN)))
    replies = mm.bot_answers(post["id"])
    assert [reply["message"] for reply in replies] == ["Réponse à : aide", CHOICES_INTRO + "\n- `Rejoindre`"]
    assert all(actions_of(reply) == [] for reply in replies)


def test_a_slash_command_is_answered_on_its_response_url(mm: MattermostStandin) -> None:
    user = mm.add_user("alice")
    direct = mm.add_channel("alice__bob", type="D", bot_member=False)  # a DM the bot is not part of
    fields = mm.slash_payload(user, direct, "aide", SLASH_TOKEN, root_id="")
    answer(make_channel(mm), ScriptedBot(), question(mm, fields, FORM))
    [reply] = mm.responses_for(user)
    assert reply["channel_id"] == direct.id
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Réponse à : aide")
    assert "`/bienvenue Rejoindre`" in reply["text"]


def test_an_empty_question_gets_the_guard_answer(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "@bienvenue")
    bot = ScriptedBot()
    answer(make_channel(mm), bot, question(mm, mm.webhook_payload(post, HOOK_TOKEN, "@bienvenue")))
    assert bot.received == []
    assert [reply["message"] for reply in mm.bot_answers(post["id"])] == [guard.EMPTY_MESSAGE_ANSWER]


def test_server_errors_are_retried_until_mattermost_is_back(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour")
    channel = make_channel(mm, bot_user_id=mm.bot.id)
    mm.fail(500, count=3)  # the post lookup, then two attempts to post
    answer(channel, ScriptedBot(), question(mm, mm.webhook_payload(post, HOOK_TOKEN)))
    assert [reply["message"] for reply in mm.bot_answers(post["id"])] == ["Réponse à : bonjour"]


def test_when_mattermost_stays_down_the_failure_is_logged_and_the_next_message_works(
    mm: MattermostStandin, caplog: pytest.LogCaptureFixture
) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    lost, later = (mm.user_post(user, room, text) for text in ("perdu", "ensuite"))
    channel = make_channel(mm, bot_user_id=mm.bot.id)
    mm.fail(503, only="POST /api/v4/posts")
    with caplog.at_level(logging.WARNING, logger="channels.mattermost"):
        answer(channel, ScriptedBot(), question(mm, mm.webhook_payload(lost, HOOK_TOKEN)))
    assert mm.bot_answers(lost["id"]) == []
    [lost_log] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert user.id in lost_log.getMessage()
    assert room.id in lost_log.getMessage()
    assert "503" in lost_log.getMessage()
    mm.recover()
    answer(channel, ScriptedBot(), question(mm, mm.webhook_payload(later, HOOK_TOKEN)))
    assert [reply["message"] for reply in mm.bot_answers(later["id"])] == ["Réponse à : ensuite"]


def test_a_bad_bot_token_is_not_retried(mm: MattermostStandin, caplog: pytest.LogCaptureFixture) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour")
    channel = make_channel(mm, bot_token="revoked", bot_user_id=mm.bot.id)
    calls_before = len(mm.api_calls)
    with caplog.at_level(logging.ERROR, logger="channels.mattermost"):
        answer(channel, ScriptedBot(), question(mm, mm.webhook_payload(post, HOOK_TOKEN)))
    calls = mm.api_calls[calls_before:]
    # The post lookup is refused: the post is not answered (its author cannot be checked), nothing is posted.
    assert [(method, status) for method, _, status in calls] == [("GET", 401)]
    assert any("401" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("failure", ["404", "500", "timeout"])
def test_a_post_whose_lookup_fails_is_not_answered_and_the_reason_is_logged(
    mm: MattermostStandin, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour")
    payload = mm.webhook_payload(post, HOOK_TOKEN)
    if failure == "404":
        payload["post_id"] = new_id()  # a post it cannot read
    elif failure == "500":
        mm.fail(500, only="GET /api/v4/posts/")
    else:
        mm.hang(only="GET /api/v4/posts/")
    bot = ScriptedBot()
    with caplog.at_level(logging.ERROR, logger="channels.mattermost"):
        answer(make_channel(mm, bot_user_id=mm.bot.id, timeout_s=0.2), bot, question(mm, payload))
    mm.recover()
    assert bot.received == []
    assert [p for p in mm.api_posts if p["channel_id"] == room.id] == []
    [log] = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert payload["post_id"] in log
    assert "not answered" in log


def test_without_the_bots_own_id_nothing_is_answered_until_it_is_learnt(
    mm: MattermostStandin, caplog: pytest.LogCaptureFixture
) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    first, second = (mm.user_post(user, room, text) for text in ("un", "deux"))
    channel = make_channel(mm)
    mm.fail(503, only="GET /api/v4/users/me")
    bot = ScriptedBot()
    with caplog.at_level(logging.ERROR, logger="channels.mattermost"):
        answer(channel, bot, question(mm, mm.webhook_payload(first, HOOK_TOKEN)))
    assert bot.received == []
    assert mm.bot_answers(first["id"]) == []
    assert any("own user id" in record.getMessage() for record in caplog.records)
    mm.recover()
    answer(channel, bot, question(mm, mm.webhook_payload(second, HOOK_TOKEN)))
    assert [reply["message"] for reply in mm.bot_answers(second["id"])] == ["Réponse à : deux"]


def test_a_thread_that_cannot_be_answered_in_falls_back_to_the_channel(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour", root_id=new_id())  # a reply whose thread root is gone
    channel = make_channel(mm, bot_user_id=mm.bot.id)
    answer(channel, ScriptedBot(), question(mm, mm.webhook_payload(post, HOOK_TOKEN)))
    [reply] = [p for p in mm.api_posts if p["channel_id"] == room.id]
    assert reply["root_id"] == ""
    assert reply["message"] == "Réponse à : bonjour"


def test_a_users_next_turn_runs_while_an_earlier_answer_waits_for_mattermost(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    root = mm.user_post(user, room, "premier")
    second = mm.user_post(user, room, "second", root_id=root["id"])
    questions = [question(mm, mm.webhook_payload(post, HOOK_TOKEN)) for post in (root, second)]
    channel = make_channel(mm, bot_user_id=mm.bot.id)
    bot = ScriptedBot()
    guarded = Guard("mattermost", guard.Limits()).connect(bot)
    mm.hang(count=1, only="POST /api/v4/posts")  # the first answer's post waits for Mattermost

    async def run() -> list[tuple[str, str]]:
        jobs = [asyncio.ensure_future(channel.answer(q, guarded)) for q in questions]
        for _ in range(1000):  # a hang guard: the second turn needs no answer from Mattermost
            if len(bot.received) == 2:
                break
            await asyncio.sleep(0.01)
        turns_while_blocked = list(bot.received)
        mm.recover()
        await asyncio.gather(*jobs)
        await channel.api.close()
        return turns_while_blocked

    assert asyncio.run(run()) == [(user.id, "premier"), (user.id, "second")]
    answers = [post["message"] for post in mm.bot_answers(root["id"])]
    assert answers == ["Réponse à : premier", "Réponse à : second"]


def test_questions_waiting_for_their_answers_are_bounded_per_user_and_in_total(
    mm: MattermostStandin, caplog: pytest.LogCaptureFixture
) -> None:
    room, alice, bob, carol = mm.add_channel("accueil"), *(mm.add_user(name) for name in ("a", "b", "c"))
    channel = make_channel(mm, max_pending_per_user=2, max_pending=3)

    def ask(user: User) -> Question:
        return question(mm, mm.webhook_payload(mm.user_post(user, room, "bonjour"), HOOK_TOKEN))

    async def run() -> list[bool]:
        release = asyncio.Event()
        admitted = []
        for user in (alice, alice, alice, bob, carol):
            asked = ask(user)
            admitted.append(channel.admit(asked))
            if admitted[-1]:
                channel.start(asked, release.wait())
        release.set()
        for _ in range(100):  # a hang guard: the jobs end at once
            if not channel.pending:
                break
            await asyncio.sleep(0)
        admitted.append(channel.admit(ask(carol)))  # the answers went out: room again
        return admitted

    with caplog.at_level(logging.WARNING, logger="channels.mattermost"):
        assert asyncio.run(run()) == [True, True, False, True, False, True]
    refusals = [record.getMessage() for record in caplog.records if "not accepted" in record.getMessage()]
    assert len(refusals) == 2
    assert alice.id in refusals[0] and carol.id in refusals[1]
    assert channel.pending == 0


def test_a_question_not_accepted_gets_a_short_answer_mattermost_shows_itself(mm: MattermostStandin) -> None:
    room, user = mm.add_channel("accueil"), mm.add_user("alice")
    post = mm.user_post(user, room, "bonjour")
    assert busy_reply(question(mm, mm.webhook_payload(post, HOOK_TOKEN))) == {
        "text": BUSY_ANSWER,
        "response_type": "comment",
    }
    slash = question(mm, mm.slash_payload(user, room, "bonjour", SLASH_TOKEN), FORM)
    assert busy_reply(slash) == {"response_type": "ephemeral", "text": BUSY_ANSWER}
    click = Question(Kind.CLICK, "/ask_join_beta", user.id, room.id, root_id=post["id"])
    assert busy_reply(click) == {"ephemeral_text": BUSY_ANSWER}
