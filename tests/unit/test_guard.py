"""The guard every channel uses: refusals, cleaning, limits, never a silent turn, tracker store failures."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from channels import guard
from channels.guard import Guard, Limits, Outcome

LIMITS = Limits(max_message_chars=50, reply_timeout_s=30)
REPO = Path(__file__).resolve().parents[2]


# --- cleaning -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("bon\x00jour\x07 !", "bonjour !"),
        ("  quoi\tde\n\nneuf\r\n ?  ", "quoi de neuf ?"),
        ("\x85c'est\x7f quoi\x1b ?", "c'est quoi ?"),
        ("abc\u202edcba", "abcdcba"),  # right-to-left override: display spoofing
        ("caf\u0065\u0301", "café"),  # combining accent: one character, as the training data writes it
        ("a\ud800b", "ab"),  # lone surrogate: cannot be stored as UTF-8
    ],
    ids=["nul-bell", "whitespace", "c1-del-esc", "bidi-override", "nfc", "surrogate"],
)
def test_clean_text_removes_control_characters_and_collapses_whitespace(raw: str, cleaned: str) -> None:
    assert guard.clean_text(raw) == cleaned


@pytest.mark.parametrize(
    "text",
    ["👋🏽 bonjour 👨‍👩‍👧", "مرحبا، ما هو beta.gouv ؟", "שלום, מה זה?", "l'État & « vous »"],
    ids=["emoji-zwj", "arabic", "hebrew", "french"],
)
def test_clean_text_keeps_emoji_and_right_to_left_text(text: str) -> None:
    assert guard.clean_text(text) == text


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("<script>alert(1)</script>", "‹script›alert(1)‹/script›"),
        ('<img src=x onerror="alert(1)">', '‹img src=x onerror="alert(1)"›'),
        ("[cliquez ici](https://evil.example)", "(cliquez ici)(https://evil.example)"),
        ("![x](javascript:alert(1))", "!(x)(javascript:alert(1))"),
        ("<https://evil.example>", "‹https://evil.example›"),
    ],
    ids=["script", "img", "link", "image", "autolink"],
)
def test_clean_text_neutralises_html_and_markdown_link_syntax(raw: str, cleaned: str) -> None:
    assert guard.clean_text(raw) == cleaned


def test_clean_text_keeps_button_payloads_intact() -> None:
    payload = '/inform_administration{"administration": "justice"}'
    assert guard.clean_text(payload) == payload


# --- refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t \r\n", "\x00\x01\x02", "\u202e"])
def test_empty_messages_are_refused(text: str) -> None:
    assert guard.check_message(text, 50).refusal == guard.EMPTY_MESSAGE_ANSWER


def test_messages_over_the_limit_are_refused_with_the_limit_in_french() -> None:
    checked = guard.check_message("a" * 2001, 2000)
    assert checked.refusal == guard.TOO_LONG_ANSWER.format(limit="2\u202f000")
    assert "2\u202f000 caractères" in checked.refusal


def test_huge_messages_are_refused_without_being_cleaned(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_cleaning(text: str) -> str:
        raise AssertionError("cleaned")

    monkeypatch.setattr(guard, "clean_text", no_cleaning)
    checked = guard.check_message("\x00" * 2_000_000, 2000)
    assert checked.refusal == guard.TOO_LONG_ANSWER.format(limit="2\u202f000")


def test_a_message_at_the_limit_is_accepted_and_counted_after_cleaning() -> None:
    assert guard.check_message("a" * 50, 50) == guard.CheckedMessage("a" * 50)
    assert guard.check_message("  " + "a" * 50 + "\x00\x00  ", 50) == guard.CheckedMessage("a" * 50)


# --- limits ---------------------------------------------------------------------------------------------


def test_limits_default_values() -> None:
    assert Limits.from_env({}) == Limits(max_message_chars=2000, reply_timeout_s=30.0)


def test_limits_come_from_the_environment() -> None:
    environ = {guard.MAX_MESSAGE_CHARS_ENV: "500", guard.REPLY_TIMEOUT_ENV: "2.5"}
    assert Limits.from_env(environ) == Limits(max_message_chars=500, reply_timeout_s=2.5)


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5"])
def test_invalid_message_limits_stop_the_channel_with_a_clear_error(value: str) -> None:
    with pytest.raises(ValueError, match=guard.MAX_MESSAGE_CHARS_ENV):
        Limits.from_env({guard.MAX_MESSAGE_CHARS_ENV: value})


@pytest.mark.parametrize("value", ["soon", "0", "-1"])
def test_invalid_reply_timeouts_stop_the_channel_with_a_clear_error(value: str) -> None:
    with pytest.raises(ValueError, match=guard.REPLY_TIMEOUT_ENV):
        Limits.from_env({guard.REPLY_TIMEOUT_ENV: value})


# --- sender ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sender_id", ["moi", "a" * 128, "0f8fad5b-d9cb-469f-a165-70867728950e", "Zoé 🙂"])
def test_valid_sender_ids(sender_id: str) -> None:
    assert guard.check_sender_id(sender_id) is None


@pytest.mark.parametrize(
    "sender_id",
    [None, 42, ["moi"], "", "   ", "a" * 129, "a" * 10_000, "moi\x00", "moi\nautre", "a\ud800"],
    ids=["none", "int", "list", "empty", "blank", "129", "10000", "nul", "newline", "surrogate"],
)
def test_invalid_sender_ids_get_a_french_error(sender_id: object) -> None:
    assert guard.check_sender_id(sender_id) == guard.INVALID_SENDER_ANSWER


# --- handling a message ---------------------------------------------------------------------------------

Bot = Callable[[UserMessage], Awaitable[Any]]


def handle(bot: Bot, text: str = "bonjour", limits: Limits = LIMITS) -> tuple[Outcome, list[dict[str, Any]]]:
    collector = CollectingOutputChannel()
    outcome = asyncio.run(Guard("rest", limits).connect(bot).handle(text, "moi", collector))
    return outcome, collector.messages


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [message.get("text", "") for message in messages]


async def answering_bot(message: UserMessage) -> None:
    await message.output_channel.send_response(message.sender_id, {"text": f"Vous avez dit : {message.text}"})


def test_the_bot_gets_the_cleaned_text_and_its_answers_reach_the_user() -> None:
    received: list[UserMessage] = []

    async def bot(message: UserMessage) -> None:
        received.append(message)
        await answering_bot(message)

    outcome, messages = handle(bot, " bon\x00jour <b> ")
    assert outcome is Outcome.ANSWERED
    assert messages == [{"recipient_id": "moi", "text": "Vous avez dit : bonjour ‹b›"}]
    assert (received[0].sender_id, received[0].input_channel) == ("moi", "rest")


@pytest.mark.parametrize("text", ["", "  \n ", "x" * 51])
def test_refused_messages_never_reach_the_bot(text: str) -> None:
    calls: list[UserMessage] = []

    async def bot(message: UserMessage) -> None:
        calls.append(message)

    outcome, messages = handle(bot, text)
    assert outcome is Outcome.REFUSED
    assert calls == []
    assert len(messages) == 1
    assert messages[0]["text"] in (guard.EMPTY_MESSAGE_ANSWER, guard.TOO_LONG_ANSWER.format(limit="50"))


def test_a_turn_without_any_bot_message_gets_the_apology() -> None:
    async def silent_bot(message: UserMessage) -> None:
        """What Rasa does when the action server is down: logs the failure, sends nothing."""

    outcome, messages = handle(silent_bot)
    assert outcome is Outcome.APOLOGIZED
    assert texts(messages) == [guard.NO_REPLY_APOLOGY]


def test_a_partial_answer_gets_no_apology() -> None:
    """A topic's answer was sent, its links (a custom action) failed: the user has an answer."""
    outcome, messages = handle(answering_bot)
    assert outcome is Outcome.ANSWERED
    assert guard.NO_REPLY_APOLOGY not in texts(messages)


def test_a_failing_turn_gets_the_apology_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def failing_bot(message: UserMessage) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger=guard.__name__):
        outcome, messages = handle(failing_bot)
    assert outcome is Outcome.APOLOGIZED
    assert texts(messages) == [guard.NO_REPLY_APOLOGY]
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


def test_a_turn_over_the_timeout_gets_the_apology_and_goes_on_in_the_background() -> None:
    """The bot waits for something that only happens after the timeout: the user gets the apology at the
    timeout, the turn still ends (it is recorded), and its late answer is not sent out of turn."""
    collector = CollectingOutputChannel()
    finished: list[bool] = []

    async def scenario() -> Outcome:
        release = asyncio.Event()

        async def slow_bot(message: UserMessage) -> None:
            await release.wait()
            await answering_bot(message)
            finished.append(True)

        limits = Limits(max_message_chars=50, reply_timeout_s=0.01)
        outcome = await Guard("rest", limits).connect(slow_bot).handle("bonjour", "moi", collector)
        release.set()
        for _ in range(10):  # let the turn's task run to its end
            await asyncio.sleep(0)
        return outcome

    assert asyncio.run(scenario()) is Outcome.APOLOGIZED
    assert finished == [True]
    assert texts(collector.messages) == [guard.NO_REPLY_APOLOGY]


def test_a_client_leaving_does_not_cancel_the_turn() -> None:
    finished: list[bool] = []

    async def scenario() -> None:
        release = asyncio.Event()

        async def slow_bot(message: UserMessage) -> None:
            await release.wait()
            finished.append(True)

        request = asyncio.ensure_future(
            Guard("rest", LIMITS).connect(slow_bot).handle("bonjour", "moi", CollectingOutputChannel())
        )
        await asyncio.sleep(0)
        request.cancel()  # what Sanic does when the client disconnects
        release.set()
        for _ in range(10):
            await asyncio.sleep(0)

    asyncio.run(scenario())
    assert finished == [True]


def store_failure() -> None:
    """What Rasa's FailSafeTrackerStore does when the database fails: log an error, carry on."""
    logging.getLogger(guard.TRACKER_STORE_LOGGER).error("Error happened when trying to retrieve ...")


def test_a_tracker_store_failure_replaces_the_answers_by_a_clear_error() -> None:
    async def bot_without_store(message: UserMessage) -> None:
        store_failure()
        await answering_bot(message)  # computed from an empty conversation

    outcome, messages = handle(bot_without_store)
    assert outcome is Outcome.STORE_DOWN
    assert texts(messages) == [guard.STORE_DOWN_ANSWER]


def test_a_tracker_store_failure_only_affects_its_own_turn() -> None:
    """Two turns at once: the store fails during the first one only."""
    first, second = CollectingOutputChannel(), CollectingOutputChannel()

    async def scenario() -> list[Outcome]:
        both_started = asyncio.Event()
        started: list[str] = []

        async def bot(message: UserMessage) -> None:
            started.append(message.sender_id)
            if len(started) == 2:
                both_started.set()
            await both_started.wait()
            if message.sender_id == "first":
                store_failure()
            await answering_bot(message)

        guarded = Guard("rest", LIMITS).connect(bot)
        return list(
            await asyncio.gather(
                guarded.handle("bonjour", "first", first), guarded.handle("bonjour", "second", second)
            )
        )

    assert asyncio.run(scenario()) == [Outcome.STORE_DOWN, Outcome.ANSWERED]
    assert texts(first.messages) == [guard.STORE_DOWN_ANSWER]
    assert texts(second.messages) == ["Vous avez dit : bonjour"]


def test_store_errors_outside_any_turn_are_ignored() -> None:
    store_failure()  # e.g. at start-up: no turn to mark, nothing raised
    outcome, _ = handle(answering_bot)
    assert outcome is Outcome.ANSWERED


def test_the_bot_sees_the_channels_name() -> None:
    """Rasa picks channel-specific response variations by the output channel's name."""
    names: list[str] = []

    async def bot(message: UserMessage) -> None:
        names.append(message.output_channel.name())
        await answering_bot(message)

    handle(bot)
    assert names == [CollectingOutputChannel.name()]


def test_metadata_and_message_id_reach_the_bot() -> None:
    received: list[UserMessage] = []

    async def bot(message: UserMessage) -> None:
        received.append(message)
        await answering_bot(message)

    guarded = Guard("socketio", LIMITS).connect(bot)
    output = CollectingOutputChannel()
    asyncio.run(guarded.handle("bonjour", "moi", output, metadata={"a": 1}, message_id="m1"))
    [message] = received
    assert (message.metadata, message.message_id, message.input_channel) == ({"a": 1}, "m1", "socketio")


def test_a_guard_reads_its_limits_once_from_the_environment() -> None:
    environ = {guard.MAX_MESSAGE_CHARS_ENV: "500"}
    assert Guard.from_env("rest", environ) == Guard("rest", Limits(max_message_chars=500))
    with pytest.raises(ValueError, match=guard.MAX_MESSAGE_CHARS_ENV):
        Guard.from_env("rest", {guard.MAX_MESSAGE_CHARS_ENV: "x"})


def test_importing_the_guard_does_not_touch_logging_connecting_it_watches_the_store() -> None:
    """The store watch is a logging handler: installed by Guard.connect (a channel's blueprint), not as a side
    effect of an import."""
    script = (
        "import logging, channels.guard as g; "
        "store = logging.getLogger(g.TRACKER_STORE_LOGGER); print(len(store.handlers)); "
        "g.Guard('rest').connect(lambda message: None); g.Guard('rest').connect(lambda message: None); "
        "print(len(store.handlers))"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert output == ["0", "1"]
