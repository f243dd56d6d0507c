"""A bare « ok » or « d'accord » acknowledges: a neutral reply (or a 👍 right after an answer that asked for
feedback), never the out-of-scope answer that a question no topic covers gets."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain

from tests import servers
from tests.integration.conftest import Bot

OUT_OF_SCOPE_START = Domain.load(servers.REPO / "domain.yml").responses["utter_out_of_scope"][0]["text"][:30]


@pytest.mark.parametrize("text", ["ok", "d'accord"])
def test_an_acknowledgement_is_not_out_of_scope(bot: Bot, text: str) -> None:
    replies = bot.send(f"acknowledgement-{text}", text)
    assert replies
    assert not any(reply.get("text", "").startswith(OUT_OF_SCOPE_START) for reply in replies), replies
