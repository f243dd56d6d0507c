"""The assistant answers in French through the REST channel of a real Rasa server."""

from tests.integration.conftest import Bot


def texts(replies: list[dict]) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


def test_greeting_is_answered_in_french(bot: Bot) -> None:
    answer = texts(bot.send("basics-greet", "bonjour"))
    assert "Bienvenue" in answer


def test_bot_challenge_says_it_is_an_assistant(bot: Bot) -> None:
    answer = texts(bot.send("basics-robot", "êtes-vous un robot ?")).lower()
    assert "assistant" in answer


def test_topic_slot_follows_the_topics_answered(bot: Bot) -> None:
    sender = "basics-topic"
    assert "intrapreneur" in texts(bot.send(sender, "c'est quoi un intrapreneur ?")).lower()
    assert bot.slot(sender, "topic") == "ask_what_is_intrapreneur"
    bot.send(sender, "merci")
    assert bot.slot(sender, "topic") == "ask_what_is_intrapreneur"
    bot.send(sender, "et comment on en devient un ?")
    assert bot.slot(sender, "topic") == "ask_become_intrapreneur"
