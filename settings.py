"""Every environment variable of Bienvenue in one place: its default, its check and what it is for.

Code reads a setting with ``value(NAME)``; ``read()`` checks them all at once and reports every problem
together. Standard library only: the Tchap client (its own environment, without Rasa) imports it too.

    python -m settings --check [--endpoints endpoints.production.yml]   # French errors, exit status 2
    python -m settings --shell                                          # export lines for scripts/run.sh
    python -m settings --env-example > .env.example                     # the documented list
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent
MIN_SECRET_CHARS = 16
# French typography: a narrow no-break space before « : » and inside « ».
_COLON = "\u202f:"


class SettingError(ValueError):
    """One value that cannot be used; the message, in French, says what is expected."""


class SettingsError(ValueError):
    """Every problem found in the environment, one French sentence each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


# --- parsers: raw text (never empty) -> value, or SettingError ----------------------------------------------


def text(raw: str) -> str:
    return raw


def positive_number(raw: str, *, whole: bool = False) -> float:
    """A finite number above zero (an integer when ``whole``): the one parser of counts, delays and sizes."""
    try:
        number = int(raw) if whole else float(raw)
    except ValueError:
        number = 0
    if not number > 0 or not math.isfinite(number):
        raise SettingError(f"un nombre {'entier ' if whole else ''}positif est attendu")
    return number


def positive_int(raw: str) -> int:
    return int(positive_number(raw, whole=True))


def whole_number(raw: str) -> int:
    """Zero or more, such as a Redis database number."""
    if not raw.isdigit():
        raise SettingError("un nombre entier positif ou nul est attendu")
    return int(raw)


def port(raw: str) -> int:
    number = positive_int(raw)
    if number > 65535:
        raise SettingError("un numéro de port entre 1 et 65535 est attendu")
    return number


def http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingError("une adresse http:// ou https:// est attendue")
    return raw.rstrip("/")


def origins(raw: str) -> tuple[str, ...]:
    """Web origins separated by commas or spaces, such as https://bienvenue.beta.gouv.fr."""
    listed = tuple(http_url(origin) for origin in re.split(r"[,\s]+", raw) if origin)
    if not listed:
        raise SettingError("au moins une origine http(s) est attendue")
    return listed


def file_path(raw: str) -> Path:
    return Path(raw)


def directory(raw: str) -> Path:
    """A directory that exists; a relative path is taken from the repository."""
    path = REPO / raw
    if not path.is_dir():
        raise SettingError(f"le dossier {path} n'existe pas")
    return path


def secret(raw: str) -> str:
    if len(raw) < MIN_SECRET_CHARS:
        raise SettingError(f"au moins {MIN_SECRET_CHARS} caractères sont attendus")
    return raw


def tokens(raw: str) -> tuple[str, ...]:
    # Empty entries are dropped: an empty token would accept a request without one.
    return tuple(token for token in (part.strip() for part in raw.split(",")) if token)


# More retries than this would keep an answer (and its user's next answers) waiting for minutes.
MAX_RETRIES = 10
MAX_RETRY_DELAY_S = 60.0


def retry_delays(raw: str) -> tuple[float, ...]:
    """Comma-separated waits in seconds, such as ``0.5,1,2,4,8``; ``0`` alone means no retry."""
    try:
        delays = tuple(float(part) for part in raw.split(","))
    except ValueError:
        delays = ()
    if not 0 < len(delays) <= MAX_RETRIES or not all(0 <= delay <= MAX_RETRY_DELAY_S for delay in delays):
        raise SettingError(
            f"au plus {MAX_RETRIES} attentes en secondes entre 0 et {MAX_RETRY_DELAY_S:g} sont attendues, "
            "séparées par des virgules"
        )
    return () if delays == (0.0,) else delays


def mattermost_id(raw: str) -> str:
    if not re.fullmatch(r"[a-z0-9]{26}", raw):
        raise SettingError("26 caractères a-z et 0-9 sont attendus")
    return raw


def matrix_user_id(raw: str) -> str:
    if not re.fullmatch(r"@[^:\s]+:[^:\s]+(?::\d+)?", raw):
        raise SettingError("un identifiant Matrix est attendu, tel que @bienvenue:agent.dinum.tchap.gouv.fr")
    return raw


def flag(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise SettingError("0 ou 1 est attendu")
    return raw == "1"


def true_or_false(raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise SettingError("true ou false est attendu")
    return raw.lower() == "true"


# --- the registry -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    name: str
    help: str  # French, for .env.example
    parse: Callable[[str], Any] = text
    # "" when the setting is optional; may name other settings, as in "http://localhost:${WEB_PORT}".
    default: str = ""
    secret: bool = False  # never echoed in an error message


GROUPS: tuple[tuple[str, tuple[Setting, ...]], ...] = (
    (
        "Serveurs lancés par scripts/run.sh (make run)",
        (
            Setting("RASA_PORT", "Port du serveur Rasa (tous les canaux).", port, "5005"),
            Setting("ACTIONS_PORT", "Port du serveur d'actions.", port, "5055"),
            Setting("WEB_PORT", "Port de la page web.", port, "8080"),
            Setting(
                "ACTION_SERVER_URL",
                "Adresse du serveur d'actions, telle que Rasa l'appelle (endpoints*.yml).",
                http_url,
                "http://localhost:${ACTIONS_PORT}/webhook",
            ),
            Setting(
                "BIENVENUE_WEB_ORIGIN",
                "Origines de la page web (séparées par des virgules), seules admises par CORS et socket.io.",
                origins,
                "http://localhost:${WEB_PORT}",
            ),
            Setting(
                "RASA_API_TOKEN",
                "Jeton de l'API HTTP de Rasa (modèle, conversations) : sans lui, l'API reste fermée.",
                secret,
                secret=True,
            ),
            Setting(
                "SANIC_REQUEST_MAX_SIZE",
                "Taille maximale (octets) d'une requête reçue par le serveur Rasa ; au-delà : 413.",
                positive_int,
                "100000",
            ),
            Setting(
                "RASA_CACHE_DIRECTORY",
                "Cache d'entraînement de Rasa (scripts/train.sh) ; vide : ~/.cache/bienvenue/rasa.",
                file_path,
            ),
            Setting(
                "RASA_TELEMETRY_ENABLED",
                "Statistiques d'usage envoyées à l'éditeur de Rasa : false, rien ne sort de la machine.",
                true_or_false,
                "false",
            ),
        ),
    ),
    (
        "Conversations et contenu",
        (
            Setting(
                "BIENVENUE_TRACKER_DB",
                "Fichier SQLite des conversations (endpoints.yml).",
                file_path,
                "var/conversations.db",
            ),
            Setting(
                "BIENVENUE_RETENTION_DAYS",
                "Durée de conservation des conversations, en jours (make purge, phrase de la page web).",
                positive_int,
                "90",
            ),
            Setting(
                "BIENVENUE_REPORT_SECRET",
                "Clé des pseudonymes des rapports ; vide : une clé créée une fois dans var/report-secret.",
                secret,
                secret=True,
            ),
            Setting(
                "BIENVENUE_CONTENT_DIR",
                "Dossier du contenu (content/*.yml) lu par les actions ; relatif au dépôt.",
                directory,
                "content",
            ),
            Setting(
                "BIENVENUE_MAX_MESSAGE_CHARS",
                "Longueur maximale d'un message d'utilisateur, en caractères.",
                positive_int,
                "2000",
            ),
            # Far above a normal turn (well under a second), far below Rasa's 5-minute wait for the actions.
            Setting(
                "BIENVENUE_REPLY_TIMEOUT_S",
                "Attente maximale d'une réponse, en secondes, avant un message d'excuse.",
                positive_number,
                "30",
            ),
            Setting(
                "BIENVENUE_CHAT_HYPERLINKS",
                "Liens cliquables dans le terminal (make chat) : 1 pour les forcer, 0 pour les refuser, "
                "vide pour détecter.",
                flag,
            ),
        ),
    ),
    (
        "Profil de production (endpoints.production.yml : PostgreSQL et Redis)",
        (
            Setting("BIENVENUE_PG_HOST", "Hôte PostgreSQL des conversations."),
            Setting("BIENVENUE_PG_PORT", "Port PostgreSQL.", port),
            Setting("BIENVENUE_PG_DB", "Base PostgreSQL."),
            Setting("BIENVENUE_PG_USER", "Utilisateur PostgreSQL."),
            Setting("BIENVENUE_PG_PASSWORD", "Mot de passe PostgreSQL.", secret=True),
            Setting("BIENVENUE_REDIS_HOST", "Hôte Redis des verrous de conversation."),
            Setting("BIENVENUE_REDIS_PORT", "Port Redis.", port),
            Setting("BIENVENUE_REDIS_PASSWORD", "Mot de passe Redis.", secret=True),
            Setting("BIENVENUE_REDIS_DB", "Numéro de base Redis.", whole_number),
            Setting("SQL_POOL_SIZE", "Connexions PostgreSQL par instance (Rasa ; vide : 50).", positive_int),
            Setting("SQL_MAX_OVERFLOW", "Connexions en plus en pointe (Rasa ; vide : 100).", positive_int),
        ),
    ),
    (
        "Mattermost (sans ces réglages, ses routes répondent 503)",
        (
            Setting(
                "MATTERMOST_URL", "Adresse de Mattermost, par exemple https://chat.exemple.fr.", http_url
            ),
            Setting("MATTERMOST_BOT_TOKEN", "Jeton d'accès du compte bot.", secret=True),
            Setting(
                "MATTERMOST_WEBHOOK_TOKENS",
                "Jetons des webhooks sortants, séparés par des virgules.",
                tokens,
                secret=True,
            ),
            Setting(
                "MATTERMOST_SLASH_TOKENS",
                "Jetons de la commande /bienvenue, séparés par des virgules.",
                tokens,
                secret=True,
            ),
            Setting(
                "MATTERMOST_BUTTON_SECRET",
                "Clé des boutons signés ; vide : dérivée du jeton du bot.",
                secret=True,
            ),
            Setting(
                "MATTERMOST_BOT_USER_ID", "Identifiant du bot ; vide : demandé à Mattermost.", mattermost_id
            ),
            Setting(
                "MATTERMOST_CALLBACK_URL",
                "Adresse publique du webhook pour les clics de boutons ; vide : choix proposés en texte.",
                http_url,
            ),
            Setting(
                "MATTERMOST_BUTTON_TTL_DAYS",
                "Durée de validité d'un bouton, en jours.",
                positive_number,
                "30",
            ),
            # About 15 s in all by default, between attempts when Mattermost is down or answers 429/5xx.
            Setting(
                "MATTERMOST_RETRY_DELAYS_S",
                "Attentes (secondes) entre deux essais quand Mattermost ne répond pas ; 0 : aucun essai.",
                retry_delays,
                "0.5,1,2,4,8",
            ),
            # A user typing fast, a team's busy morning during an outage: beyond these, a new question is
            # refused at once with a short answer (channels/mattermost/channel.py, BUSY_ANSWER).
            Setting(
                "MATTERMOST_MAX_PENDING_PER_USER",
                "Questions en attente de réponse par personne ; au-delà, réponse « occupé ».",
                positive_int,
                "10",
            ),
            Setting(
                "MATTERMOST_MAX_PENDING", "Questions en attente de réponse en tout.", positive_int, "500"
            ),
        ),
    ),
    (
        "Tchap (client lancé par scripts/run.sh quand TCHAP_HOMESERVER est défini)",
        (
            Setting(
                "TCHAP_HOMESERVER",
                "Serveur Matrix, par exemple https://matrix.agent.dinum.tchap.gouv.fr.",
                http_url,
            ),
            Setting(
                "TCHAP_USER_ID",
                "Compte du bot, tel que @bienvenue:agent.dinum.tchap.gouv.fr.",
                matrix_user_id,
            ),
            Setting("TCHAP_PASSWORD", "Mot de passe du compte (ou TCHAP_ACCESS_TOKEN).", secret=True),
            Setting("TCHAP_ACCESS_TOKEN", "Jeton d'accès du compte (ou TCHAP_PASSWORD).", secret=True),
            Setting("TCHAP_DEVICE_NAME", "Nom de l'appareil de session.", text, "Bienvenue"),
            Setting("TCHAP_DISPLAY_NAME", "Nom affiché du bot ; vide : inchangé."),
            Setting(
                "TCHAP_ALLOWED_DOMAINS",
                "Domaines admis, séparés par des virgules ; vide : celui du compte.",
                tokens,
            ),
            Setting("TCHAP_IGNORED_USERS", "Comptes ignorés, séparés par des virgules.", tokens),
            Setting("TCHAP_STORE_DIR", "Dossier de l'état du client Tchap.", file_path, "var/tchap"),
            Setting(
                "TCHAP_RASA_URL",
                "Adresse du serveur Rasa vue du client.",
                http_url,
                "http://127.0.0.1:${RASA_PORT}",
            ),
            Setting(
                "TCHAP_CHANNEL_TOKEN",
                "Jeton partagé par le client et le serveur Rasa ; vide : tiré au hasard par scripts/run.sh.",
                secret,
                secret=True,
            ),
        ),
    ),
)
SETTINGS: dict[str, Setting] = {setting.name: setting for _, group in GROUPS for setting in group}
# "${NAME}" in a default: the other setting's value, as in an endpoints file.
_REFERENCE = re.compile(r"\$\{(\w+)\}")


def _raw(name: str, environ: Mapping[str, str]) -> str:
    """The variable's text, else its default with the settings it names filled in; "" when neither."""
    raw = environ.get(name, "").strip()
    if raw:
        return raw
    return _REFERENCE.sub(lambda match: _raw(match.group(1), environ), SETTINGS[name].default)


def _problem(setting: Setting, raw: str, reason: str) -> str:
    received = "" if setting.secret else f" (reçu « {raw} »)"
    return f"{setting.name}{_COLON} {reason}{received}"


def value(name: str, environ: Mapping[str, str] = os.environ) -> Any:
    """The setting's value, from the environment or its default; None when optional and unset."""
    setting = SETTINGS[name]
    raw = _raw(name, environ)
    if not raw:
        return None
    try:
        return setting.parse(raw)
    except SettingError as error:
        raise SettingError(_problem(setting, raw, str(error))) from None


def _set(environ: Mapping[str, str], names: Iterable[str]) -> list[str]:
    return [name for name in names if environ.get(name, "").strip()]


def _channel_problems(environ: Mapping[str, str]) -> list[str]:
    """Settings that only make sense together: a channel half configured is an error, not a silent 503."""
    problems = []
    mattermost = [name for name in SETTINGS if name.startswith("MATTERMOST_")]
    if _set(environ, mattermost):
        missing = [name for name in ("MATTERMOST_URL", "MATTERMOST_BOT_TOKEN") if not _set(environ, [name])]
        if not _set(environ, ["MATTERMOST_WEBHOOK_TOKENS", "MATTERMOST_SLASH_TOKENS"]):
            missing.append("MATTERMOST_WEBHOOK_TOKENS ou MATTERMOST_SLASH_TOKENS")
        problems += [f"{name}{_COLON} requise pour le canal Mattermost" for name in missing]
    if _set(environ, ["TCHAP_HOMESERVER"]):
        if not _set(environ, ["TCHAP_USER_ID"]):
            problems.append(f"TCHAP_USER_ID{_COLON} requise pour le client Tchap")
        if not _set(environ, ["TCHAP_PASSWORD", "TCHAP_ACCESS_TOKEN"]):
            problems.append(f"TCHAP_PASSWORD ou TCHAP_ACCESS_TOKEN{_COLON} requise pour le client Tchap")
    return problems


def endpoint_variables(endpoints: Path) -> list[str]:
    """The variables an endpoints file uses (``${NAME}``): Rasa refuses to start without them."""
    return _REFERENCE.findall(endpoints.read_text(encoding="utf-8"))


def read(environ: Mapping[str, str] = os.environ, required: Iterable[str] = ()) -> dict[str, Any]:
    """Every setting's value; SettingsError listing all the problems at once."""
    values: dict[str, Any] = {}
    problems = []
    for name in SETTINGS:
        try:
            values[name] = value(name, environ)
        except SettingError as error:
            problems.append(str(error))
    for name in dict.fromkeys(required):
        if name not in SETTINGS:
            problems.append(f"{name}{_COLON} variable inconnue de settings.py")
        elif name not in environ and not SETTINGS[name].default:  # set but empty is a value to Rasa
            problems.append(f"{name}{_COLON} requise par le fichier endpoints")
    problems += _channel_problems(environ)
    if problems:
        raise SettingsError(problems)
    return values


def with_defaults(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment, plus every unset setting that has a default: what scripts/run.sh's servers see."""
    defaults = {name: _raw(name, environ) for name in SETTINGS}
    return {**environ, **{name: raw for name, raw in defaults.items() if raw}}


def shell_exports(environ: Mapping[str, str] = os.environ) -> str:
    """``export NAME=value`` for every setting with a value, once all are checked."""
    read(environ)
    complete = with_defaults(environ)
    return "".join(f"export {name}={shlex.quote(complete[name])}\n" for name in SETTINGS if name in complete)


def env_example() -> str:
    """The text of .env.example: every variable, its default and what it is for."""
    lines = [
        "# Réglages de Bienvenue : chaque variable d'environnement, avec sa valeur par défaut.",
        "# Généré depuis settings.py par « python -m settings --env-example » : ne pas modifier à la main.",
        "# Vérifier un environnement : python -m settings --check",
        "# (en production : python -m settings --check --endpoints endpoints.production.yml).",
    ]
    for title, group in GROUPS:
        lines += ["", f"# --- {title}"]
        for setting in group:
            lines += [f"# {setting.help}", f"{setting.name}={setting.default}"]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m settings", description="Réglages de Bienvenue.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="vérifie l'environnement (code 2 en cas d'erreur)")
    mode.add_argument("--shell", action="store_true", help="lignes export pour scripts/run.sh")
    mode.add_argument("--env-example", action="store_true", help="le contenu de .env.example")
    parser.add_argument(
        "--endpoints", type=Path, help="fichier endpoints dont les variables sont alors requises"
    )
    args = parser.parse_args(argv)
    if args.env_example:
        sys.stdout.write(env_example())
        return 0
    try:
        required = endpoint_variables(args.endpoints) if args.endpoints else ()
        if args.shell:
            sys.stdout.write(shell_exports(os.environ))
        else:
            read(os.environ, required)
            print("Réglages valides.")
    except SettingsError as error:
        print("Réglages invalides (voir .env.example)" + _COLON, file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"Fichier illisible{_COLON} {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
