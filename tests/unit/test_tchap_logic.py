"""The Tchap client's decisions (tchap/logic.py, tchap/state.py, tchap/settings.py) and the Rasa channel's
request checks (channels/tchap.py), without a homeserver."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels import tchap as channel
from reports.figures import channel_label
from reports.privacy import pseudonym
from tchap import logic
from tchap.settings import Settings
from tchap.state import State

BOT = logic.Identity("@bienvenue:agent.dinum.tchap.gouv.fr", "Bienvenue")


def test_conversation_id_keeps_room_and_user_apart() -> None:
    conversation = logic.conversation_id(
        "!abc:agent.dinum.tchap.gouv.fr", "@camille:agent.dinum.tchap.gouv.fr"
    )
    assert conversation == "tchap:!abc:agent.dinum.tchap.gouv.fr:@camille:agent.dinum.tchap.gouv.fr"


@pytest.mark.parametrize(
    "content",
    [
        {"body": "Bienvenue : c'est quoi beta ?"},
        {"body": "@bienvenue c'est quoi beta ?"},
        {"body": "bonjour BIENVENUE, une question"},
        {"body": "x", "m.mentions": {"user_ids": [BOT.user_id]}},
        {
            "body": "x",
            "formatted_body": '<a href="https://matrix.to/#/%40bienvenue%3Aagent.dinum.tchap.gouv.fr">B</a>',
        },
        {"body": "x", "formatted_body": f"<a href='https://matrix.to/#/{BOT.user_id}'>B</a>"},
    ],
)
def test_mentions(content: dict) -> None:
    assert logic.mentions(content, BOT)


@pytest.mark.parametrize(
    "content",
    [
        {"body": "Bienvenues à tous les nouveaux"},  # another word
        {
            "body": "> <@bienvenue:agent.dinum.tchap.gouv.fr> une réponse\n\nmerci à tous"
        },  # only the quoted reply
        {"body": "x", "m.mentions": {"user_ids": ["@autre:agent.dinum.tchap.gouv.fr"]}},
        {
            "body": "x",
            "formatted_body": '<a href="https://matrix.to/#/@autre:agent.dinum.tchap.gouv.fr">B</a>',
        },
        {"body": 42},
    ],
)
def test_no_mention(content: dict) -> None:
    assert not logic.mentions(content, BOT)


def test_question_text_drops_the_mention_and_masks_other_ids() -> None:
    text = logic.question_text("> <@x:y.fr> citation\n\n@Bienvenue : demandez à @alice:exemple.fr ?", BOT)
    assert text == "demandez à quelqu'un ?"
    assert logic.question_text(f"{BOT.user_id} bonjour", BOT) == "bonjour"


def test_relations() -> None:
    thread = {
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": "$root",
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": "$last"},
        }
    }
    assert logic.thread_root(thread) == "$root"
    assert logic.reply_target(thread) == "$last"
    assert logic.thread_root({"m.relates_to": {"m.in_reply_to": {"event_id": "$a"}}}) is None
    assert logic.is_edit({"m.relates_to": {"rel_type": "m.replace", "event_id": "$a"}})
    assert logic.reply_target({"m.relates_to": "bad"}) is None


def test_choices_and_reactions() -> None:
    assert logic.choice_index("2", 3) == 1
    assert logic.choice_index(" 1. ", 3) == 0
    assert logic.choice_index("4", 3) is None
    assert logic.choice_index("1 startup", 3) is None
    assert logic.reaction_payload("👍") == logic.FEEDBACK_POSITIVE
    assert logic.reaction_payload("👍🏽") == logic.FEEDBACK_POSITIVE
    assert logic.reaction_payload("👎️") == logic.FEEDBACK_NEGATIVE
    assert logic.reaction_payload("❤️") is None


def test_only_moderators_may_send_the_bot_away() -> None:
    def state(levels: object, version: str = "10", creator: str = "@admin:b.fr") -> list[dict]:
        create = {"type": "m.room.create", "sender": creator, "content": {"room_version": version}}
        return [create, {"type": "m.room.power_levels", "content": levels}]

    levels = {"users": {"@admin:b.fr": 100, "@mod:b.fr": 50}, "users_default": 0, "kick": 50}
    assert logic.can_kick(state(levels), "@admin:b.fr") and logic.can_kick(state(levels), "@mod:b.fr")
    assert not logic.can_kick(state(levels), "@someone:b.fr")
    assert logic.can_kick(state({"users_default": 50}), "@someone:b.fr")  # the spec's default kick level: 50
    assert not logic.can_kick(state({"users": "bad", "kick": "bad"}), "@admin:b.fr")
    # Room version 12: the creator is not listed and outranks everyone; in older rooms, the list decides.
    assert logic.can_kick(state({"users": {}}, "12", "@creator:b.fr"), "@creator:b.fr")
    assert not logic.can_kick(state({"users": {}}, "10", "@creator:b.fr"), "@creator:b.fr")
    assert logic.is_leave_command("Quitte ce salon !")
    assert not logic.is_leave_command("quitte ce salon et reviens")


def test_invitations_allow_list() -> None:
    assert logic.inviter_allowed("@a:agent.dinum.tchap.gouv.fr", ("agent.dinum.tchap.gouv.fr",))
    assert not logic.inviter_allowed("@a:evil.example", ("agent.dinum.tchap.gouv.fr",))
    assert not logic.inviter_allowed("", ("agent.dinum.tchap.gouv.fr",))
    assert not logic.inviter_allowed("@a:agent.dinum.tchap.gouv.fr", ())
    assert logic.inviter_allowed("@a:anywhere.example", ("*",))


def test_html_keeps_links_and_escapes_everything_else() -> None:
    markdown = (
        "Voir [la page](https://beta.gouv.fr/a?b=1&c=2) <img src=x onerror=alert(1)>\n"
        "[x](javascript:alert(1))"
    )
    rendered = logic.render_html(markdown)
    assert '<a href="https://beta.gouv.fr/a?b=1&amp;c=2">la page</a>' in rendered
    assert "<img" not in rendered and "&lt;img" in rendered
    assert 'href="javascript' not in rendered
    assert rendered.count("<br>") == 1
    assert (
        logic.render_plain("Voir [la page](https://beta.gouv.fr/).")
        == "Voir la page (https://beta.gouv.fr/)."
    )


def test_answer_lists_buttons_as_numbered_choices() -> None:
    messages = [
        {"text": "Réponse."},
        {
            "text": "Utile ?",
            "buttons": [
                {"title": "👍 Oui", "payload": "/feedback_positive"},
                {"title": "👎 Non", "payload": "/feedback_negative"},
            ],
        },
    ]
    text = logic.answer_text(messages)
    assert text.startswith("Réponse.\n\nUtile ?\n\n" + logic.CHOICES_INTRO)
    assert "1. 👍 Oui\n2. 👎 Non" in text and logic.FEEDBACK_HINT in text
    assert [choice.payload for choice in logic.answer_choices(messages)] == [
        "/feedback_positive",
        "/feedback_negative",
    ]


def test_notice_replies_in_the_thread_without_quoting() -> None:
    content = logic.notice_content("Réponse", "$question", "$root")
    assert content["msgtype"] == "m.notice"
    assert content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$question"},
    }
    assert logic.notice_content("R", "$q", None)["m.relates_to"] == {"m.in_reply_to": {"event_id": "$q"}}
    assert logic.transaction_id("$q", 0) == logic.transaction_id("$q", 0) != logic.transaction_id("$r", 0)


def test_state_records_each_event_once_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    state = State(path)
    event = {"event_id": "$1", "sender": "@a:b.fr", "type": "m.room.message", "content": {"body": "q"}}
    state.mark_joined("!r:b.fr")
    assert [p.source for p in state.record_sync("s1", [("!r:b.fr", event)], ["!r:b.fr"])] == [event]
    assert not state.just_joined("!r:b.fr")
    assert state.record_sync("s2", [("!r:b.fr", event)]) == []  # the same event again: not new
    state.close()

    state = State(path)  # a restart
    assert state.get("sync_token") == "s2"
    assert [p.source["event_id"] for p in state.pending()] == ["$1"]
    state.mark_done("$1")
    assert state.pending() == [] and state.is_done("$1")
    state.record_answer("$a", "!r:b.fr", "tchap:!r:b.fr:@a:b.fr")
    assert state.answer_conversation("$a") == "tchap:!r:b.fr:@a:b.fr"
    state.set_choices("tchap:!r:b.fr:@a:b.fr", [logic.Choice("Oui", "/feedback_positive")])
    assert state.choices("tchap:!r:b.fr:@a:b.fr") == [logic.Choice("Oui", "/feedback_positive")]
    state.forget_room("!r:b.fr")
    assert state.choices("tchap:!r:b.fr:@a:b.fr") == []


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "TCHAP_HOMESERVER": "https://matrix.agent.dinum.tchap.gouv.fr/",
            "TCHAP_USER_ID": "@bienvenue:agent.dinum.tchap.gouv.fr",
            "TCHAP_PASSWORD": "secret",
            "TCHAP_CHANNEL_TOKEN": "x" * 32,
        }
    )
    assert settings.problems == ()
    assert settings.homeserver == "https://matrix.agent.dinum.tchap.gouv.fr"
    assert settings.allowed_domains == ("agent.dinum.tchap.gouv.fr",)  # the bot's own homeserver by default
    missing = Settings.from_env({"TCHAP_USER_ID": "bienvenue"})
    assert len(missing.problems) == 4


def test_channel_checks_token_and_body() -> None:
    assert channel.configured_token({"TCHAP_CHANNEL_TOKEN": "court"}) is None
    token = "t" * 32
    missing = channel.authorization_error(None, token)
    wrong = channel.authorization_error("Bearer " + "u" * 32, token)
    assert missing is not None and (missing.status, missing.message) == (401, channel.MISSING_TOKEN)
    assert wrong is not None and (wrong.status, wrong.message) == (403, channel.WRONG_TOKEN)
    assert channel.authorization_error("Bearer " + token, token) is None
    good = b'{"sender": "tchap:!r:b.fr:@a:b.fr", "message": "q", "message_id": "$e"}'
    assert channel.parse_body(good) == ("tchap:!r:b.fr:@a:b.fr", "q", "$e")
    for bad in (
        b"[]",
        b"{",
        b'{"sender": "rest-user", "message": "q", "message_id": "$e"}',
        b'{"sender": "tchap:!r:b.fr:@a:b.fr", "message": "q"}',
    ):
        assert channel.parse_body(bad) is None


def test_report_names_the_tchap_channel() -> None:
    assert channel_label("tchap") == "Tchap"


def test_report_pseudonymises_tchap_conversations() -> None:
    conversation = logic.conversation_id("!salon:agent.tchap.gouv.fr", "@camille:agent.tchap.gouv.fr")
    alias = pseudonym(conversation, b"k" * 32)
    assert "camille" not in alias and "salon" not in alias and "tchap" not in alias
