"""How the bot's messages become Mattermost posts: threads, buttons, Markdown, length limits, loops."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.mattermost.incoming import MAX_POST_CHARS
from channels.mattermost.posting import (
    CHOICES_INTRO,
    RESPONSE_URL_USES,
    MattermostOutput,
    button_props,
    is_automated,
    message_text,
    slash_responses,
    split_message,
    thread_posts,
    thread_root,
)
from channels.mattermost.signatures import verify_context

SECRET = b"button-secret"
CHANNEL = "c" * 26
ROOT = "r" * 26
USER = "u" * 26
POST = "p" * 26
EXPIRES = 1_800_000_000
CALLBACK = "https://bot.exemple.fr/webhooks/mattermost/webhook"
HELP = {
    "text": "Choisissez un sujet :",
    "buttons": [
        {"title": "Qu'est-ce que beta.gouv.fr ?", "payload": "/ask_what_is_beta_gouv"},
        {"title": "Le `code`", "payload": "/ask_documentation"},
    ],
}


@pytest.mark.parametrize(
    ("props", "automated"),
    [
        ({}, False),
        ({"from_bot": "true"}, True),
        ({"from_webhook": "true"}, True),
        ({"from_plugin": "true"}, True),
        ({"from_oauth_app": "true"}, True),
        ({"from_bot": True}, True),
        ({"from_bot": "false"}, False),
    ],
)
def test_posts_of_bots_and_integrations_are_automated(props: dict[str, object], automated: bool) -> None:
    assert is_automated({"props": props}) is automated
    assert not is_automated({"props": None})


def test_answers_go_to_the_thread_root() -> None:
    assert thread_root({"id": "q", "root_id": ""}, "q") == "q"  # a new post starts its own thread
    assert thread_root({"id": "q", "root_id": ROOT}, "q") == ROOT  # a reply: the thread's root


# --- Splitting ---------------------------------------------------------------------------------------------


def test_short_messages_are_kept_whole() -> None:
    assert split_message("Bonjour.\n\nDeux paragraphes.") == ["Bonjour.\n\nDeux paragraphes."]
    assert split_message("  \n ") == []


def test_long_messages_are_cut_between_paragraphs_first() -> None:
    first, second = "a" * 60, "b" * 30
    assert split_message(f"{first}\n\n{second}", limit=80) == [first, second]


def test_a_message_without_spaces_is_cut_hard() -> None:
    assert split_message("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


@given(st.text(alphabet=st.sampled_from("ab é🙂\n"), max_size=400), st.integers(min_value=1, max_value=50))
def test_split_pieces_fit_and_keep_every_character(text: str, limit: int) -> None:
    pieces = split_message(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


# --- Posts in a thread -------------------------------------------------------------------------------------


def test_each_bot_message_is_a_post_in_the_thread() -> None:
    planned = thread_posts([{"text": "Un."}, {"text": "Deux."}], CHANNEL, ROOT, None)
    assert [(p.post["channel_id"], p.post["root_id"], p.post["message"], p.choices) for p in planned] == [
        (CHANNEL, ROOT, "Un.", []),
        (CHANNEL, ROOT, "Deux.", []),
    ]


def test_buttons_become_actions_with_a_context_signed_for_the_post_and_user() -> None:
    [planned] = thread_posts([HELP], CHANNEL, ROOT, None)
    assert planned.post["message"] == "Choisissez un sujet :"
    assert "props" not in planned.post  # the buttons are signed for the post's id, known once it exists
    created = {**planned.post, "id": POST}
    props = button_props(planned.choices, CALLBACK, SECRET, created, USER, EXPIRES)
    actions = props["attachments"][0]["actions"]
    assert [action["name"] for action in actions] == ["Qu'est-ce que beta.gouv.fr ?", "Le `code`"]
    assert all(action["id"].isalnum() for action in actions)
    assert {action["integration"]["url"] for action in actions} == {CALLBACK}
    context = actions[0]["integration"]["context"]
    where = {"channel_id": CHANNEL, "user_id": USER, "post_id": POST}
    assert verify_context(SECRET, context, **where, now=EXPIRES - 1) == ("/ask_what_is_beta_gouv", ROOT)


def test_without_a_callback_url_choices_are_listed_as_text_to_type() -> None:
    [planned] = thread_posts([HELP], CHANNEL, ROOT, "@bienvenue")
    assert planned.choices == []
    assert planned.post["message"].startswith("Choisissez un sujet :\n\n" + CHOICES_INTRO)
    assert "- `@bienvenue Qu'est-ce que beta.gouv.fr ?`" in planned.post["message"]
    [channel_wide] = thread_posts([HELP], CHANNEL, ROOT, "")
    assert "- `Le 'code'`" in channel_wide.post["message"]


def test_link_buttons_stay_clickable_markdown_links() -> None:
    message = {
        "text": "À lire :",
        "buttons": [{"title": "Le manifeste", "url": "https://beta.gouv.fr/manifeste"}],
    }
    [planned] = thread_posts([message], CHANNEL, ROOT, None)
    assert "[Le manifeste](https://beta.gouv.fr/manifeste)" in planned.post["message"]
    assert planned.choices == []


def test_images_are_markdown_images() -> None:
    assert message_text({"image": "https://exemple.fr/a.png"}) == "![](https://exemple.fr/a.png)"


def test_a_long_answer_is_split_and_its_buttons_follow_the_last_piece() -> None:
    text = ("Paragraphe. " * 1000 + "\n\n") * 3
    planned = thread_posts([{**HELP, "text": text}], CHANNEL, ROOT, None)
    assert len(planned) > 1
    assert all(len(p.post["message"]) <= MAX_POST_CHARS for p in planned)
    assert [bool(p.choices) for p in planned] == [False] * (len(planned) - 1) + [True]


def test_buttons_without_text_still_get_a_post() -> None:
    [planned] = thread_posts([{**HELP, "text": None}], CHANNEL, ROOT, None)
    assert planned.post["message"] == ""
    assert planned.choices


# --- Slash command answers ---------------------------------------------------------------------------------


def test_a_slash_answer_is_one_ephemeral_message_with_buttons_as_commands() -> None:
    [answer] = slash_responses([{"text": "Bonjour."}, HELP], "/bienvenue")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Bonjour.\n\nChoisissez un sujet :")
    assert CHOICES_INTRO in answer["text"]
    assert "- `/bienvenue Qu'est-ce que beta.gouv.fr ?`" in answer["text"]
    assert "- `/bienvenue Le 'code'`" in answer["text"]  # a backtick would end the inline code


def test_a_slash_answer_uses_the_response_url_at_most_five_times() -> None:
    huge = [{"text": "x" * MAX_POST_CHARS} for _ in range(RESPONSE_URL_USES + 2)]
    assert len(slash_responses(huge, "/bienvenue")) == RESPONSE_URL_USES


def test_the_output_collects_the_turn_and_says_it_is_mattermost() -> None:
    output = MattermostOutput()
    asyncio.run(output.send_response("u", {"text": "Un", "buttons": []}))
    asyncio.run(output.send_text_message("u", "Deux"))
    assert output.messages == [{"text": "Un", "buttons": []}, {"text": "Deux"}]
    assert output.name() == "mattermost"  # Rasa picks channel-specific responses by this name
