"""The Mattermost channel reads its configuration from the environment only, and starts without it."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from rasa.core.run import create_http_input_channels

from channels.guard import MAX_MESSAGE_CHARS_ENV, Guard, Limits
from channels.mattermost import MattermostInput
from channels.mattermost.settings import (
    DEFAULT_RETRY_DELAYS_S,
    ENV_BOT_TOKEN,
    ENV_BOT_USER_ID,
    ENV_BUTTON_SECRET,
    ENV_BUTTON_TTL_DAYS,
    ENV_CALLBACK_URL,
    ENV_MAX_PENDING,
    ENV_MAX_PENDING_PER_USER,
    ENV_RETRY_DELAYS_S,
    ENV_SLASH_TOKENS,
    ENV_URL,
    ENV_WEBHOOK_TOKENS,
    Settings,
    api_base_url,
    derive_button_secret,
    origin,
    split_tokens,
)

REPO = Path(__file__).resolve().parents[2]
COMPLETE = {
    ENV_URL: "https://chat.exemple.fr/api/v4",
    ENV_BOT_TOKEN: "bot-token",
    ENV_WEBHOOK_TOKENS: "hook-a, hook-b",
}


def test_a_complete_environment_configures_the_channel() -> None:
    settings = Settings.from_env(COMPLETE)
    assert settings.configured
    assert settings.api_url == "https://chat.exemple.fr/api/v4"
    assert settings.webhook_tokens == ("hook-a", "hook-b")
    assert settings.slash_tokens == ()


@pytest.mark.parametrize("missing", [ENV_URL, ENV_BOT_TOKEN, ENV_WEBHOOK_TOKENS])
def test_each_missing_variable_is_named_in_the_problems(missing: str) -> None:
    environ = {name: value for name, value in COMPLETE.items() if name != missing}
    settings = Settings.from_env(environ)
    assert not settings.configured
    assert any(missing in problem for problem in settings.problems)


def test_slash_tokens_alone_are_enough() -> None:
    environ = {ENV_URL: COMPLETE[ENV_URL], ENV_BOT_TOKEN: "t", ENV_SLASH_TOKENS: "slash"}
    assert Settings.from_env(environ).configured


@pytest.mark.parametrize(
    ("name", "value"), [(ENV_BOT_USER_ID, "not-an-id"), (ENV_CALLBACK_URL, "ftp://x"), (ENV_URL, "chat.fr")]
)
def test_invalid_values_are_problems(name: str, value: str) -> None:
    settings = Settings.from_env({**COMPLETE, name: value})
    assert any(name in problem for problem in settings.problems)


def test_defaults_of_the_optional_settings() -> None:
    settings = Settings.from_env(COMPLETE)
    assert settings.button_ttl_s == 30 * 86400
    assert settings.retry_delays_s == DEFAULT_RETRY_DELAYS_S
    assert (settings.max_pending_per_user, settings.max_pending) == (10, 500)
    assert settings.callback_url == ""


def test_optional_settings_come_from_the_environment() -> None:
    environ = {
        **COMPLETE,
        ENV_BUTTON_TTL_DAYS: "0.5",
        ENV_RETRY_DELAYS_S: "0.01, 0.02",
        ENV_MAX_PENDING_PER_USER: "3",
        ENV_MAX_PENDING: "40",
    }
    settings = Settings.from_env(environ)
    assert settings.configured
    assert settings.button_ttl_s == 43200
    assert settings.retry_delays_s == (0.01, 0.02)
    assert (settings.max_pending_per_user, settings.max_pending) == (3, 40)
    assert Settings.from_env({**COMPLETE, ENV_RETRY_DELAYS_S: "0"}).retry_delays_s == ()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (ENV_BUTTON_TTL_DAYS, "0"),
        (ENV_BUTTON_TTL_DAYS, "trente"),
        (ENV_BUTTON_TTL_DAYS, "inf"),
        (ENV_RETRY_DELAYS_S, "1,deux"),
        (ENV_RETRY_DELAYS_S, "-1"),
        (ENV_RETRY_DELAYS_S, "1,,2"),
        (ENV_RETRY_DELAYS_S, "3600"),
        (ENV_RETRY_DELAYS_S, ",".join(["1"] * 11)),
        (ENV_RETRY_DELAYS_S, "nan"),
        (ENV_MAX_PENDING_PER_USER, "1.5"),
        (ENV_MAX_PENDING_PER_USER, "0"),
        (ENV_MAX_PENDING, "-5"),
    ],
)
def test_invalid_optional_settings_are_problems_named_in_french(name: str, value: str) -> None:
    settings = Settings.from_env({**COMPLETE, name: value})
    assert not settings.configured
    [problem] = settings.problems
    assert problem.startswith(f"{name}\u202f: ")
    assert "attendu" in problem


def test_origin_makes_the_default_port_explicit() -> None:
    assert origin("https://Chat.fr/api/v4") == ("https", "chat.fr", 443)
    assert origin("https://chat.fr:443/hooks") == ("https", "chat.fr", 443)
    assert origin("http://chat.fr/") == ("http", "chat.fr", 80)
    assert origin("https://a@b.fr/") == ("https", "b.fr", 443)
    assert origin("ftp://chat.fr/") is None
    assert origin("https://chat.fr:99999/") is None


def test_empty_token_entries_are_dropped_so_that_no_token_matches_an_absent_one() -> None:
    assert split_tokens(" a ,, ,b,") == ("a", "b")
    assert split_tokens("") == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://chat.fr", "https://chat.fr/api/v4"),
        ("https://chat.fr/", "https://chat.fr/api/v4"),
        ("https://chat.fr/api/v4/", "https://chat.fr/api/v4"),
        ("http://127.0.0.1:8065/mm/api/v4", "http://127.0.0.1:8065/mm/api/v4"),
        ("", ""),
        ("javascript:alert(1)", ""),
    ],
)
def test_api_base_url(raw: str, expected: str) -> None:
    assert api_base_url(raw) == expected


def test_button_secret_defaults_to_a_key_derived_from_the_bot_token() -> None:
    derived = Settings.from_env(COMPLETE).button_secret
    assert derived == derive_button_secret("bot-token")
    assert derived != derive_button_secret("another-token")
    assert b"bot-token" not in derived
    assert Settings.from_env({**COMPLETE, ENV_BUTTON_SECRET: "s3cret"}).button_secret == b"s3cret"


def test_the_project_credentials_load_the_channel_even_unconfigured() -> None:
    with mock.patch.dict("os.environ", {}, clear=True):
        channels = create_http_input_channels(None, str(REPO / "credentials.yml"))
    mattermost = [channel for channel in channels if isinstance(channel, MattermostInput)]
    assert len(mattermost) == 1
    assert mattermost[0].name() == "mattermost"
    assert not mattermost[0].settings.configured


def test_credentials_keys_are_ignored_in_favour_of_the_environment() -> None:
    with mock.patch.dict("os.environ", COMPLETE, clear=True):
        channel = MattermostInput.from_credentials({"url": "https://elsewhere", "token": "in-the-file"})
    assert isinstance(channel, MattermostInput)
    assert channel.settings.bot_token == "bot-token"


def test_the_channel_reads_its_guard_limits_when_it_is_built() -> None:
    with mock.patch.dict("os.environ", {**COMPLETE, MAX_MESSAGE_CHARS_ENV: "300"}, clear=True):
        channel = MattermostInput.from_credentials(None)
    assert isinstance(channel, MattermostInput)
    assert channel.guard == Guard("mattermost", Limits(max_message_chars=300))
    with (
        mock.patch.dict("os.environ", {**COMPLETE, MAX_MESSAGE_CHARS_ENV: "many"}, clear=True),
        pytest.raises(ValueError, match=MAX_MESSAGE_CHARS_ENV),
    ):
        MattermostInput.from_credentials(None)
