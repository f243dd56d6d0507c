"""settings.py is the one source of every environment variable: defaults, checks and French errors, the
shell exports scripts/run.sh evaluates, and .env.example."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import settings

REPO = Path(__file__).resolve().parents[2]


def check(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "settings", "--check", *args],
        cwd=REPO, env={"PATH": "/usr/bin:/bin", **environ}, capture_output=True, text=True, timeout=60,
    )


def test_env_example_lists_every_setting_with_its_default() -> None:
    """Fails when the two drift apart: python -m settings --env-example > .env.example"""
    assert (REPO / ".env.example").read_text(encoding="utf-8") == settings.env_example()
    for setting in settings.SETTINGS.values():
        assert f"\n{setting.name}={setting.default}\n" in settings.env_example()


def test_defaults_are_valid_and_follow_the_settings_they_name() -> None:
    values = settings.read({})
    assert values["BIENVENUE_WEB_ORIGIN"] == (f"http://localhost:{values['WEB_PORT']}",)
    assert values["ACTION_SERVER_URL"] == f"http://localhost:{values['ACTIONS_PORT']}/webhook"
    moved = settings.read({"WEB_PORT": "9000", "ACTIONS_PORT": "9001"})
    assert moved["BIENVENUE_WEB_ORIGIN"] == ("http://localhost:9000",)
    assert moved["ACTION_SERVER_URL"] == "http://localhost:9001/webhook"


def test_optional_settings_are_none_when_unset_or_blank() -> None:
    assert settings.value("RASA_API_TOKEN", {}) is None
    assert settings.value("RASA_API_TOKEN", {"RASA_API_TOKEN": "  "}) is None


def test_every_problem_is_reported_at_once_in_french() -> None:
    with pytest.raises(settings.SettingsError) as raised:
        settings.read({"WEB_PORT": "huit", "BIENVENUE_RETENTION_DAYS": "0", "BIENVENUE_REPLY_TIMEOUT_S": "x"})
    assert [problem.split("\u202f:")[0] for problem in raised.value.problems] == [
        "WEB_PORT", "BIENVENUE_RETENTION_DAYS", "BIENVENUE_REPLY_TIMEOUT_S",
    ]
    assert raised.value.problems[1] == (
        "BIENVENUE_RETENTION_DAYS\u202f: un nombre entier positif est attendu (reçu «\u202f0\u202f»)"
    )


def test_a_secret_is_never_echoed() -> None:
    with pytest.raises(settings.SettingsError) as raised:
        settings.read({"RASA_API_TOKEN": "court-secret"})
    assert raised.value.problems == ("RASA_API_TOKEN\u202f: au moins 16 caractères sont attendus",)


@pytest.mark.parametrize(
    ("raw", "whole", "expected"),
    [("3", True, 3), ("2.5", False, 2.5), ("1e3", False, 1000.0)],
)
def test_positive_numbers(raw: str, whole: bool, expected: float) -> None:
    assert settings.positive_number(raw, whole=whole) == expected


@pytest.mark.parametrize(
    ("raw", "whole"),
    [("0", True), ("-1", False), ("1.5", True), ("nan", False), ("inf", False), ("x", False)],
)
def test_what_is_not_a_positive_number_is_refused(raw: str, whole: bool) -> None:
    with pytest.raises(settings.SettingError, match="positif"):
        settings.positive_number(raw, whole=whole)


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        ("https://a.gouv.fr/, http://localhost:8080", ("https://a.gouv.fr", "http://localhost:8080")),
        ("https://a.gouv.fr http://127.0.0.1:8080", ("https://a.gouv.fr", "http://127.0.0.1:8080")),
    ],
)
def test_web_origins_are_a_list(raw: str, origins: tuple[str, ...]) -> None:
    assert settings.value("BIENVENUE_WEB_ORIGIN", {"BIENVENUE_WEB_ORIGIN": raw}) == origins


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("BIENVENUE_WEB_ORIGIN", "localhost:8080"),
        ("RASA_PORT", "70000"),
        ("BIENVENUE_CONTENT_DIR", "no-such-directory"),
        ("MATTERMOST_RETRY_DELAYS_S", "1,2,600"),
        ("MATTERMOST_BOT_USER_ID", "Bot"),
        ("TCHAP_USER_ID", "bienvenue"),
        ("BIENVENUE_CHAT_HYPERLINKS", "yes"),
        ("BIENVENUE_REDIS_DB", "-1"),
    ],
)
def test_bad_values_are_named(name: str, raw: str) -> None:
    with pytest.raises(settings.SettingError, match=f"^{name}\u202f: "):
        settings.value(name, {name: raw})


def test_the_content_directory_is_relative_to_the_repository() -> None:
    assert settings.value("BIENVENUE_CONTENT_DIR", {}) == REPO / "content"


def test_retry_delays_zero_means_no_retry() -> None:
    assert settings.value("MATTERMOST_RETRY_DELAYS_S", {"MATTERMOST_RETRY_DELAYS_S": "0"}) == ()


def test_a_half_configured_channel_is_an_error() -> None:
    with pytest.raises(settings.SettingsError) as raised:
        settings.read({"MATTERMOST_URL": "https://chat.example", "TCHAP_HOMESERVER": "https://matrix.example"})
    assert [problem.split("\u202f:")[0] for problem in raised.value.problems] == [
        "MATTERMOST_BOT_TOKEN",
        "MATTERMOST_WEBHOOK_TOKENS ou MATTERMOST_SLASH_TOKENS",
        "TCHAP_USER_ID",
        "TCHAP_PASSWORD ou TCHAP_ACCESS_TOKEN",
    ]


def test_check_exits_2_with_french_errors() -> None:
    done = check({"BIENVENUE_RETENTION_DAYS": "trois"})
    assert done.returncode == 2
    assert "BIENVENUE_RETENTION_DAYS\u202f: un nombre entier positif est attendu" in done.stderr
    assert check({}).returncode == 0


def test_check_requires_what_the_production_endpoints_use() -> None:
    done = check({}, "--endpoints", "endpoints.production.yml")
    assert done.returncode == 2
    assert "BIENVENUE_PG_HOST\u202f: requise par le fichier endpoints" in done.stderr
    assert "ACTION_SERVER_URL" not in done.stderr  # it has a default


ECHO_EXPORTED = 'echo "$WEB_PORT|$BIENVENUE_WEB_ORIGIN|$BIENVENUE_TRACKER_DB|$RASA_API_TOKEN"'


def test_a_variable_the_endpoints_use_may_be_set_empty() -> None:
    """Rasa accepts an empty value (no Redis password); only an unset variable stops it."""
    used = settings.endpoint_variables(REPO / "endpoints.production.yml")
    environ = {**dict.fromkeys(used, "1"), "ACTION_SERVER_URL": "http://actions/webhook"}
    environ["BIENVENUE_REDIS_PASSWORD"] = ""
    settings.read(environ, used)
    del environ["BIENVENUE_REDIS_PASSWORD"]
    with pytest.raises(settings.SettingsError, match="BIENVENUE_REDIS_PASSWORD"):
        settings.read(environ, used)


def test_shell_exports_give_run_sh_every_default_and_the_environment_s_values() -> None:
    script = settings.shell_exports({"WEB_PORT": "9000", "RASA_API_TOKEN": "it's a long enough token"})
    done = subprocess.run(
        ["bash", "-c", script + ECHO_EXPORTED],
        env={}, capture_output=True, text=True, timeout=30, check=True,
    )
    tracker_db = settings.SETTINGS["BIENVENUE_TRACKER_DB"].default
    assert done.stdout == f"9000|http://localhost:9000|{tracker_db}|it's a long enough token\n"


def test_shell_exports_refuse_bad_values() -> None:
    with pytest.raises(settings.SettingsError):
        settings.shell_exports({"RASA_PORT": "0"})


def test_the_tchap_client_defaults_agree_with_the_registry() -> None:
    """Until tchap/settings.py reads settings.py itself, its defaults must be the registry's."""
    try:
        channel_settings = importlib.import_module("tchap.settings")
    except ModuleNotFoundError:
        pytest.skip("tchap/ is not merged on this branch yet")
    constants = {
        "DEFAULT_DEVICE_NAME": "TCHAP_DEVICE_NAME",
        "DEFAULT_STORE_DIR": "TCHAP_STORE_DIR",
        "DEFAULT_RASA_URL": "TCHAP_RASA_URL",
    }
    for constant, name in constants.items():
        expected = settings.value(name, {})
        assert getattr(channel_settings, constant) == (str(expected) if name.endswith("_DIR") else expected)


def test_run_sh_stops_before_starting_anything_when_a_setting_is_bad() -> None:
    done = subprocess.run(
        [str(REPO / "scripts" / "run.sh")],
        env={"PATH": "/usr/bin:/bin", "RASA_PORT": "0", "BIENVENUE_RETENTION_DAYS": "jamais"},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "RASA_PORT\u202f: un nombre entier positif est attendu" in done.stderr
    assert "BIENVENUE_RETENTION_DAYS\u202f: un nombre entier positif est attendu" in done.stderr
    assert "[run]" not in done.stdout + done.stderr


def test_the_registry_needs_nothing_but_the_standard_library() -> None:
    """The Tchap client's own environment has no Rasa and no site packages of this one."""
    code = f"import sys; sys.path.insert(0, {str(REPO)!r}); import settings; settings.read({{}})"
    subprocess.run([sys.executable, "-I", "-S", "-c", code], check=True, timeout=60)
