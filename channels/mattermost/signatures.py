"""Who may call the channel: integration tokens, and button contexts signed by the bot.

Outgoing webhooks and slash commands carry the integration's token. Button clicks carry no token: the bot
signs (HMAC-SHA256) what it puts in a button's context — the payload, where to answer, who may click and on
which post, until when — and checks it when the click comes back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from channels.body import RequestError

MISSING_TOKEN = "Jeton absent : cette route n'accepte que les requêtes de votre serveur Mattermost."
WRONG_TOKEN = "Jeton invalide : cette route n'accepte que les requêtes de votre serveur Mattermost."
BAD_SIGNATURE = (
    "Bouton non reconnu : son contexte n'est pas signé par Bienvenue pour cette personne et ce message."
)
EXPIRED_BUTTON = "Ce bouton a expiré : posez à nouveau votre question."

SIGNED_KEYS = ("action", "channel_id", "root_id", "user_id", "post_id", "expires")


def token_matches(candidate: str, tokens: Sequence[str]) -> bool:
    """Constant-time comparison with every configured token (bytes, so that any text can be compared)."""
    given = candidate.encode()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given, token.encode())
    return matched and bool(candidate)


def check_token(fields: Mapping[str, Any], tokens: Sequence[str]) -> None:
    token = fields.get("token")
    if not isinstance(token, str) or not token:
        raise RequestError(401, "missing_token", MISSING_TOKEN)
    if not token_matches(token, tokens):
        raise RequestError(403, "wrong_token", WRONG_TOKEN)


def _signature(secret: bytes, values: Sequence[str | int]) -> str:
    signed = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))
    return hmac.new(secret, signed.encode(), hashlib.sha256).hexdigest()


def sign_context(
    secret: bytes, action: str, channel_id: str, root_id: str, user_id: str, post_id: str, expires: int
) -> dict[str, str | int]:
    """A button's context: the payload for the bot, where to answer, who may click it on which post and until
    when (Unix seconds), signed together."""
    context: dict[str, str | int] = {
        "action": action,
        "channel_id": channel_id,
        "root_id": root_id,
        "user_id": user_id,
        "post_id": post_id,
        "expires": expires,
    }
    context["signature"] = _signature(secret, [context[key] for key in SIGNED_KEYS])
    return context


def verify_context(
    secret: bytes, context: object, *, channel_id: object, user_id: object, post_id: object, now: float
) -> tuple[str, str]:
    """The (payload, thread root) of a click on a button the bot signed for this channel, user and post,
    before its expiry; otherwise a 403."""
    if not isinstance(context, dict):
        raise RequestError(403, "bad_signature", BAD_SIGNATURE)
    values = [context.get(key) for key in SIGNED_KEYS]
    signature = context.get("signature")
    expires = values[-1]
    if (
        not all(isinstance(value, str) for value in values[:-1])
        or not isinstance(expires, int)
        or isinstance(expires, bool)
        or not isinstance(signature, str)
    ):
        raise RequestError(403, "bad_signature", BAD_SIGNATURE)
    expected = _signature(secret, values)  # type: ignore[arg-type]  # checked above
    signed_for = (values[1], values[3], values[4])  # channel, user, post
    if not hmac.compare_digest(signature.encode(), expected.encode()) or signed_for != (
        channel_id,
        user_id,
        post_id,
    ):
        raise RequestError(403, "bad_signature", BAD_SIGNATURE)
    if now >= expires:
        raise RequestError(403, "expired_button", EXPIRED_BUTTON)
    return values[0], values[2]  # type: ignore[return-value]  # checked above
