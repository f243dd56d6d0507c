"""The report's figures match the conversations the tests wrote through Rasa's SQLTrackerStore, and the
rules that turn events into turns hold on hand-made event sequences."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from reports import figures, store
from reports.conversations import Conversation, conversations
from reports.store import StoredEvent
from tests.unit import report_data
from tests.unit.report_data import PARIS, at


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> list[Conversation]:
    path = tmp_path_factory.mktemp("store") / "conversations.db"
    report_data.write_conversations(report_data.sqlite_store(str(path)))
    engine = store.open_store(f"sqlite:///{path}")
    assert engine is not None
    return conversations(store.read_events(engine))


@pytest.fixture(scope="module")
def computed(stored: list[Conversation]) -> dict:
    return figures.figures(stored, PARIS, {"ask_what_is_startup_etat": "Qu'est-ce qu'une Startup d'État ?"})


def test_totals_match_what_was_generated(computed: dict) -> None:
    assert computed["totals"] == report_data.EXPECTED_TOTALS


def test_each_day_counts_its_conversations_messages_and_rates_quiet_days_included(computed: dict) -> None:
    assert computed["per_day"] == report_data.EXPECTED_PER_DAY


def test_topics_count_answers_and_the_feedback_given_after_them(computed: dict) -> None:
    found = {row["topic"]: (row["answers"], row["positive"], row["negative"]) for row in computed["topics"]}
    assert found == report_data.EXPECTED_TOPICS
    assert computed["topics"][0]["topic"] == "ask_what_is_startup_etat"  # the most answered first
    assert computed["topics"][0]["label"] == "Qu'est-ce qu'une Startup d'État ?"


def test_channels_are_split_with_readable_names(computed: dict) -> None:
    found = {row["channel"]: (row["conversations"], row["user_messages"]) for row in computed["channels"]}
    assert found == report_data.EXPECTED_CHANNELS
    labels = {row["channel"]: row["label"] for row in computed["channels"]}
    assert labels == {
        "socketio": "Page web", "rest": "API REST", "mattermost": "Mattermost", "cmdline": "Terminal"
    }


def test_conversation_lengths(computed: dict) -> None:
    assert computed["conversation_lengths"] == report_data.EXPECTED_LENGTHS


def test_a_session_without_any_message_is_not_a_conversation(stored: list[Conversation]) -> None:
    assert report_data.SENDERS["silent"] not in {conversation.sender_id for conversation in stored}


# Hand-made event sequences, for the rules one at a time.


def event(kind: str, t: float, sender: str = "s", **data: object) -> StoredEvent:
    return StoredEvent(sender, kind, t, {"event": kind, **data})


def user(t: float, text: str, intent: str, sender: str = "s", channel: str = "rest") -> StoredEvent:
    return event("user", t, sender, text=text, input_channel=channel,
                 parse_data={"intent": {"name": intent, "confidence": 0.9}})


def action(t: float, name: str, sender: str = "s") -> StoredEvent:
    return event("action", t, sender, name=name)


def slot(t: float, name: str, value: str | None, sender: str = "s") -> StoredEvent:
    return event("slot", t, sender, name=name, value=value)


def test_slots_restored_at_a_session_start_are_not_new_answers_nor_new_feedback() -> None:
    found = conversations([
        user(1, "c'est quoi une SE", "ask_what_is_startup_etat"),
        slot(1, "topic", "ask_what_is_startup_etat"), action(2, "action_listen"),
        user(3, "/feedback_positive", "feedback_positive"), slot(3, "feedback", "positive"),
        action(4, "action_listen"),
        action(5, "action_session_start"), event("session_started", 5),
        slot(5, "topic", "ask_what_is_startup_etat"), slot(5, "feedback", "positive"),
        action(5, "action_listen"),
        user(6, "merci", "thank"), action(7, "action_listen"),
    ])
    assert [len(conversation.turns) for conversation in found] == [2, 1]
    assert found[1].turns[0].topic is None and found[1].turns[0].feedback is None


def test_feedback_is_about_the_topic_answered_before_it_even_in_a_later_session() -> None:
    found = conversations([
        user(1, "c koi un intra", "ask_what_is_intrapreneur"), slot(1, "topic", "ask_what_is_intrapreneur"),
        action(2, "action_listen"),
        action(5, "action_session_start"), event("session_started", 5),
        slot(5, "topic", "ask_what_is_intrapreneur"), action(5, "action_listen"),
        user(6, "pas clair", "feedback_negative"), slot(6, "feedback", "negative"),
        action(7, "action_listen"),
    ])
    turn = found[1].turns[0]
    assert (turn.feedback, turn.feedback_topic) == ("negative", "ask_what_is_intrapreneur")


def test_a_topic_set_while_extracting_slots_for_another_intent_was_not_answered() -> None:
    # A custom slot mapping runs its action on every message: here it sets ask_incubator_list each time.
    found = conversations([
        user(1, "c'est quoi une SE", "ask_what_is_startup_etat"),
        slot(1, "topic", "ask_what_is_startup_etat"), action(2, "utter_ask_what_is_startup_etat"),
        action(2, "action_listen"),
        user(3, "merci", "thank"), slot(3, "topic", "ask_incubator_list"), action(4, "utter_thank"),
        action(4, "action_listen"),
        user(5, "/feedback_positive", "feedback_positive"), slot(5, "topic", "ask_incubator_list"),
        slot(5, "feedback", "positive"), action(6, "utter_feedback_positive"), action(6, "action_listen"),
        user(7, "et ça dure combien de temps ?", "followup_duration"), slot(7, "topic", "ask_incubator_list"),
        action(8, "action_answer_followup"), slot(8, "topic", "ask_startup_phases"),
        action(8, "action_listen"),
    ])
    assert [turn.topic for turn in found[0].turns] == [
        "ask_what_is_startup_etat", None, None, "ask_startup_phases"
    ]
    assert found[0].turns[2].feedback_topic == "ask_what_is_startup_etat"


def test_a_topic_set_during_a_core_fallback_was_not_answered() -> None:
    found = conversations([
        user(1, "financement ??", "ask_funding"), slot(1, "topic", "ask_funding"),
        action(2, "action_default_fallback"), action(3, "action_listen"),
    ])
    assert found[0].turns[0].outcome == "fallback"
    assert figures.topics(found, {}) == []


@pytest.mark.parametrize(
    ("intent", "actions", "outcome"),
    [
        ("nlu_fallback", ["action_search_fallback"], "fallback"),
        ("ask_funding", ["action_default_fallback"], "fallback"),
        ("out_of_scope", ["utter_out_of_scope"], "out_of_scope"),
        ("ask_funding", ["utter_ask_funding", "action_topic_links"], "answered"),
    ],
)
def test_outcome_of_a_turn(intent: str, actions: list[str], outcome: str) -> None:
    events = [user(1, "question", intent), *(action(2, name) for name in actions), action(3, "action_listen")]
    assert conversations(events)[0].turns[0].outcome == outcome


def test_a_restart_forgets_the_topic_but_stays_in_its_session() -> None:
    found = conversations([
        user(1, "c koi un intra", "ask_what_is_intrapreneur"), slot(1, "topic", "ask_what_is_intrapreneur"),
        action(2, "action_listen"),
        event("restart", 3), user(4, "pas clair", "feedback_negative"), slot(4, "feedback", "negative"),
        action(5, "action_listen"),
    ])
    assert [len(conversation.turns) for conversation in found] == [2]
    assert found[0].turns[1].feedback_topic is None


def test_each_session_start_starts_a_conversation() -> None:
    found = conversations([
        user(1, "bonjour", "greet"), action(2, "action_listen"),
        event("session_started", 5000), user(5001, "bonjour", "greet"), action(5002, "action_listen"),
    ])
    assert [conversation.started for conversation in found] == [1, 5000]


def test_each_sender_has_its_own_conversations_and_topic() -> None:
    found = conversations([
        user(1, "c koi un intra", "ask_what_is_intrapreneur", sender="a"),
        slot(1, "topic", "ask_what_is_intrapreneur", sender="a"), action(2, "action_listen", sender="a"),
        user(1, "pas clair", "feedback_negative", sender="b"), slot(1, "feedback", "negative", sender="b"),
        action(2, "action_listen", sender="b"),
    ])
    assert [conversation.sender_id for conversation in found] == ["a", "b"]
    assert found[1].turns[0].feedback_topic is None  # b never got an answer: its feedback is about nothing


def test_days_are_local_days() -> None:
    # 00:30 in Paris on 7 May is still 6 May in UTC.
    found = conversations([user(at(1, 0, 30), "bonjour", "greet"), action(at(1, 0, 31), "action_listen")])
    assert [row["date"] for row in figures.per_day(found, PARIS)] == ["2024-05-07"]


def test_rates_leave_button_clicks_out() -> None:
    found = conversations([
        user(1, "/ask_funding", "ask_funding"), action(2, "action_listen"),
        user(3, "blabla", "nlu_fallback"), action(4, "action_listen"),
    ])
    row = figures.per_day(found, PARIS)[0]
    assert (row["user_messages"], row["typed_messages"], row["fallback_rate"]) == (2, 1, 1.0)


def test_no_conversation_gives_empty_figures() -> None:
    computed = figures.figures([], PARIS, {})
    assert computed["per_day"] == [] and computed["topics"] == [] and computed["channels"] == []
    assert computed["totals"]["conversations"] == 0
    assert computed["totals"]["median_conversation_length"] is None


def test_reading_a_store_that_does_not_exist_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "var" / "conversations.db"
    with pytest.raises(store.MissingStoreError, match="n'existe pas"):
        store.open_store(f"sqlite:///{path}")
    assert not path.exists()


def test_a_requested_span_has_a_row_for_each_of_its_days_even_quiet_ones() -> None:
    found = conversations([user(at(1, 9), "bonjour", "greet"), action(at(1, 9), "action_listen")])
    span = (date(2024, 5, 5), date(2024, 5, 11))
    rows = figures.per_day(found, PARIS, span)
    assert [row["date"] for row in rows] == [f"2024-05-{day:02}" for day in range(5, 12)]
    assert [row["user_messages"] for row in rows] == [0, 0, 1, 0, 0, 0, 0]
    assert figures.per_day([], PARIS, span)[0]["fallback_rate"] is None
