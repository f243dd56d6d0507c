"""Privacy by default: sender and conversation ids become keyed pseudonyms, personal data in quoted messages
is masked.

A pseudonym is an HMAC-SHA256 of the sender id (a person: "p-…") or of the sender id and the start of one of
its conversation sessions (a conversation: "c-…"): stable from one report to the next, and impossible to
compute, or to reverse by trying likely ids, without the key. The key comes from BIENVENUE_REPORT_SECRET, else
from a random key created once per installation in var/.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

import settings

SECRET_ENV = "BIENVENUE_REPORT_SECRET"
DEFAULT_KEY_FILE = Path("var/report-secret")

EMAIL_MASK = "[e-mail masqué]"
PHONE_MASK = "[téléphone masqué]"
NUMBER_MASK = "[numéro masqué]"

# Also "prenom.nom @ exemple.fr": people add spaces to dodge spam robots.
_EMAIL = re.compile(r"[\w.+-]+\s?@\s?[\w-]+(?:\.[\w-]+)+")
# French numbers: 0X XX XX XX XX, +33 X.., 0033 X.., +33 (0)X.., with spaces, dots or hyphens, or none.
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
# Any other long number (social security, bank account, badge number): nine digits or more.
_LONG_NUMBER = re.compile(r"(?<!\d)\d(?:[\s.-]?\d){8,}(?!\d)")


def mask_personal_data(text: str) -> str:
    """`text` with its e-mail addresses, phone numbers and long numbers replaced by placeholders."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _PHONE.sub(PHONE_MASK, text)
    return _LONG_NUMBER.sub(NUMBER_MASK, text)


def pseudonym(sender_id: str, key: bytes) -> str:
    """A stable, non-reversible stand-in for a sender id: one person (a browser, a Mattermost account)."""
    return _keyed("p", sender_id, key)


def conversation_pseudonym(sender_id: str, started: float, key: bytes) -> str:
    """A stable, non-reversible stand-in for one conversation session of a sender."""
    return _keyed("c", f"{sender_id}\n{started!r}", key)


def _keyed(prefix: str, value: str, key: bytes) -> str:
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:16]}"


def pseudonym_key(environ: Mapping[str, str], key_file: Path = DEFAULT_KEY_FILE) -> bytes:
    """The secret from the environment, else this installation's key file, created on first use."""
    secret = settings.value(SECRET_ENV, environ)  # checked there: long enough to resist guessing
    if secret:
        return secret.encode("utf-8")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # Created readable by its owner only, and never overwritten: pseudonyms must stay stable.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return key_file.read_text(encoding="ascii").strip().encode("ascii")


RETENTION_ENV = "BIENVENUE_RETENTION_DAYS"
SECONDS_PER_DAY = 86_400


def retention_days(environ: Mapping[str, str]) -> int:
    """How many days a conversation is kept after its last message (a whole number, at least 1)."""
    return settings.value(RETENTION_ENV, environ)


def retention_cutoff(now: float, days: int) -> float:
    """Conversations whose last event is strictly before this Unix time are past retention."""
    return now - days * SECONDS_PER_DAY
