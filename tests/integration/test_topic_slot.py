"""The `topic` slot names the topic a message was answered with: an abstention forgets the topic before it,
so that a reader of the slot (reports, evaluations, « un lien ? ») never takes it for the abstained one's."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Bot


@pytest.mark.parametrize("abstention", ["/out_of_scope", "/nlu_fallback"])
def test_an_abstention_forgets_the_previous_topic(bot: Bot, abstention: str) -> None:
    sender = f"topic-then{abstention.replace('/', '-')}"
    bot.send(sender, "/ask_funding")
    assert bot.slot(sender, "topic") == "ask_funding"

    replies = bot.send(sender, abstention)

    assert replies, "an abstention still answers"
    assert bot.slot(sender, "topic") is None


def test_a_topic_question_after_an_abstention_sets_its_topic(bot: Bot) -> None:
    sender = "abstention-then-topic"
    bot.send(sender, "/out_of_scope")
    bot.send(sender, "/ask_leave")
    assert bot.slot(sender, "topic") == "ask_leave"
