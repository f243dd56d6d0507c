"""The Tchap client's configuration: environment variables only, like the Mattermost channel's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tchap.logic import USER_ID_PATTERN

HOMESERVER = "TCHAP_HOMESERVER"
USER_ID = "TCHAP_USER_ID"
PASSWORD = "TCHAP_PASSWORD"
ACCESS_TOKEN = "TCHAP_ACCESS_TOKEN"
DEVICE_NAME = "TCHAP_DEVICE_NAME"
DISPLAY_NAME = "TCHAP_DISPLAY_NAME"
ALLOWED_DOMAINS = "TCHAP_ALLOWED_DOMAINS"
IGNORED_USERS = "TCHAP_IGNORED_USERS"
STORE_DIR = "TCHAP_STORE_DIR"
RASA_URL = "TCHAP_RASA_URL"
CHANNEL_TOKEN = "TCHAP_CHANNEL_TOKEN"

DEFAULT_DEVICE_NAME = "Bienvenue"
DEFAULT_STORE_DIR = "var/tchap"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
MIN_CHANNEL_TOKEN_CHARS = 16


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _split(raw: str) -> tuple[str, ...]:
    return tuple(item for item in (part.strip() for part in raw.split(",")) if item)


@dataclass(frozen=True)
class Settings:
    homeserver: str
    user_id: str
    password: str
    access_token: str
    device_name: str
    display_name: str
    allowed_domains: tuple[str, ...]
    ignored_users: frozenset[str]
    store_dir: Path
    rasa_url: str
    channel_token: str
    problems: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        problems = []
        homeserver = environ.get(HOMESERVER, "").strip().rstrip("/")
        if not _is_http_url(homeserver):
            problems.append(
                f"{HOMESERVER} manquante ou invalide (par exemple https://matrix.agent.dinum.tchap.gouv.fr)"
            )
        user_id = environ.get(USER_ID, "").strip()
        if not USER_ID_PATTERN.fullmatch(user_id):
            problems.append(
                f"{USER_ID} manquante ou invalide (par exemple @bienvenue:agent.dinum.tchap.gouv.fr)"
            )
        password = environ.get(PASSWORD, "")
        access_token = environ.get(ACCESS_TOKEN, "").strip()
        if not password and not access_token:
            problems.append(f"{PASSWORD} ou {ACCESS_TOKEN} manquante")
        rasa_url = environ.get(RASA_URL, DEFAULT_RASA_URL).strip().rstrip("/")
        if not _is_http_url(rasa_url):
            problems.append(f"{RASA_URL} invalide (adresse http du serveur Rasa)")
        channel_token = environ.get(CHANNEL_TOKEN, "").strip()
        if len(channel_token) < MIN_CHANNEL_TOKEN_CHARS:
            problems.append(
                f"{CHANNEL_TOKEN} manquante ou trop courte ({MIN_CHANNEL_TOKEN_CHARS} caractères au moins)"
            )
        own_domain = user_id.split(":", 1)[1] if ":" in user_id else ""
        allowed = _split(environ.get(ALLOWED_DOMAINS, "")) or ((own_domain,) if own_domain else ())
        return cls(
            homeserver=homeserver,
            user_id=user_id,
            password=password,
            access_token=access_token,
            device_name=environ.get(DEVICE_NAME, "").strip() or DEFAULT_DEVICE_NAME,
            display_name=environ.get(DISPLAY_NAME, "").strip(),
            allowed_domains=allowed,
            ignored_users=frozenset(_split(environ.get(IGNORED_USERS, ""))),
            store_dir=Path(environ.get(STORE_DIR, "").strip() or DEFAULT_STORE_DIR),
            rasa_url=rasa_url,
            channel_token=channel_token,
            problems=tuple(problems),
        )
