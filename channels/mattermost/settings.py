"""The channel's configuration, read from MATTERMOST_* environment variables only (no secret in files)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import settings

# Mattermost ids: 26 lowercase base32 characters.
ID_PATTERN = re.compile(r"[a-z0-9]{26}")
BUTTON_SECRET_LABEL = b"bienvenue/mattermost/buttons"

ENV_URL = "MATTERMOST_URL"
ENV_BOT_TOKEN = "MATTERMOST_BOT_TOKEN"
ENV_WEBHOOK_TOKENS = "MATTERMOST_WEBHOOK_TOKENS"
ENV_SLASH_TOKENS = "MATTERMOST_SLASH_TOKENS"
ENV_BUTTON_SECRET = "MATTERMOST_BUTTON_SECRET"
ENV_BOT_USER_ID = "MATTERMOST_BOT_USER_ID"
ENV_CALLBACK_URL = "MATTERMOST_CALLBACK_URL"
ENV_BUTTON_TTL_DAYS = "MATTERMOST_BUTTON_TTL_DAYS"
ENV_RETRY_DELAYS_S = "MATTERMOST_RETRY_DELAYS_S"
ENV_MAX_PENDING_PER_USER = "MATTERMOST_MAX_PENDING_PER_USER"
ENV_MAX_PENDING = "MATTERMOST_MAX_PENDING"

# Defaults, checks and their reasons: settings.py, the registry of every environment variable.
DEFAULT_BUTTON_TTL_DAYS: float = settings.value(ENV_BUTTON_TTL_DAYS, {})
DEFAULT_RETRY_DELAYS_S: tuple[float, ...] = settings.value(ENV_RETRY_DELAYS_S, {})
DEFAULT_MAX_PENDING_PER_USER: int = settings.value(ENV_MAX_PENDING_PER_USER, {})
DEFAULT_MAX_PENDING: int = settings.value(ENV_MAX_PENDING, {})


@dataclass(frozen=True)
class Settings:
    api_url: str = ""  # Mattermost's API base, ending with /api/v4
    bot_token: str = ""
    webhook_tokens: tuple[str, ...] = ()
    slash_tokens: tuple[str, ...] = ()
    button_secret: bytes = b""
    bot_user_id: str = ""  # learned from GET /users/me when not given
    # Where Mattermost sends button clicks (this server's public URL of the webhook route). Without it there
    # are no buttons: the choices are listed as text (a URL taken from the request's Host could be forged).
    callback_url: str = ""
    button_ttl_s: float = DEFAULT_BUTTON_TTL_DAYS * 86400
    retry_delays_s: tuple[float, ...] = DEFAULT_RETRY_DELAYS_S
    max_pending_per_user: int = DEFAULT_MAX_PENDING_PER_USER
    max_pending: int = DEFAULT_MAX_PENDING
    problems: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return not self.problems

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        problems: list[str] = []
        api_url = api_base_url(environ.get(ENV_URL, ""))
        if not api_url:
            problems.append(f"{ENV_URL} manquante ou invalide (par exemple https://chat.exemple.fr/api/v4)")
        bot_token = environ.get(ENV_BOT_TOKEN, "").strip()
        if not bot_token:
            problems.append(f"{ENV_BOT_TOKEN} manquante (jeton d'accès du compte bot)")
        webhook_tokens = split_tokens(environ.get(ENV_WEBHOOK_TOKENS, ""))
        slash_tokens = split_tokens(environ.get(ENV_SLASH_TOKENS, ""))
        if not webhook_tokens and not slash_tokens:
            problems.append(f"{ENV_WEBHOOK_TOKENS} ou {ENV_SLASH_TOKENS} manquante (jetons des intégrations)")
        bot_user_id = environ.get(ENV_BOT_USER_ID, "").strip()
        if bot_user_id and not ID_PATTERN.fullmatch(bot_user_id):
            problems.append(f"{ENV_BOT_USER_ID} invalide (26 caractères a-z et 0-9)")
        callback_url = environ.get(ENV_CALLBACK_URL, "").strip()
        if callback_url and not is_http_url(callback_url):
            problems.append(f"{ENV_CALLBACK_URL} invalide (adresse http ou https)")
        secret = environ.get(ENV_BUTTON_SECRET, "").strip().encode()
        ttl_days = _checked(environ, ENV_BUTTON_TTL_DAYS, problems)
        retry_delays = _checked(environ, ENV_RETRY_DELAYS_S, problems)
        per_user = _checked(environ, ENV_MAX_PENDING_PER_USER, problems)
        total = _checked(environ, ENV_MAX_PENDING, problems)
        return cls(
            api_url=api_url,
            bot_token=bot_token,
            webhook_tokens=webhook_tokens,
            slash_tokens=slash_tokens,
            button_secret=secret or derive_button_secret(bot_token),
            bot_user_id=bot_user_id,
            callback_url=callback_url,
            button_ttl_s=ttl_days * 86400,
            retry_delays_s=retry_delays,
            max_pending_per_user=per_user,
            max_pending=total,
            problems=tuple(problems),
        )


def _checked(environ: Mapping[str, str], name: str, problems: list[str]) -> Any:
    """The setting's value (settings.py), else its default with the problem noted: the channel answers 503."""
    try:
        return settings.value(name, environ)
    except settings.SettingError as error:
        problems.append(str(error))
        return settings.value(name, {})


def split_tokens(raw: str) -> tuple[str, ...]:
    # Empty entries are dropped: an empty token would accept a request without one.
    return tuple(token for token in (part.strip() for part in raw.split(",")) if token)


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, the port made explicit; None if it has none or is invalid."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def api_base_url(raw: str) -> str:
    """``https://host[/prefix]/api/v4`` from the server address, with or without /api/v4; "" if invalid."""
    url = raw.strip().rstrip("/")
    if not is_http_url(url):
        return ""
    return url if url.endswith("/api/v4") else f"{url}/api/v4"


def derive_button_secret(bot_token: str) -> bytes:
    # Without MATTERMOST_BUTTON_SECRET, a key that only whoever holds the bot token can compute.
    return hmac.new(bot_token.encode(), BUTTON_SECRET_LABEL, hashlib.sha256).digest()
