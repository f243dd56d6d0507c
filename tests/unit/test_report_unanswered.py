"""Unanswered questions: grouped by similarity, exported as Rasa NLU YAML ready to label, and checked
against the current model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from reports import check
from reports.conversations import conversations
from reports.privacy import conversation_pseudonym, pseudonym
from reports.store import StoredEvent
from reports.unanswered import (
    TO_LABEL,
    UnansweredMessage,
    cosine,
    features,
    group_messages,
    known_examples,
    nlu_questions,
    nlu_yaml,
    normalise,
    unanswered_messages,
)

KEY = b"0123456789abcdef0123456789abcdef"
TOPICS = {"ask_first_steps", "ask_funding", "ask_join_beta"}


def message(
    text: str,
    conversation: str = "c-1",
    guess: tuple[str, float] | None = None,
    outcome: str = "fallback",
    person: str = "p-1",
) -> UnansweredMessage:
    return UnansweredMessage(text, conversation, person, 0.0, "rest", outcome, guess)  # type: ignore[arg-type]


def wordings(groups: list) -> list[set[str]]:
    return [{text for text, _ in group.questions} for group in groups]


def test_normalising_ignores_case_accents_and_punctuation() -> None:
    assert normalise("Badge d'ACCÈS au bâtiment ?!") == normalise("badge d acces au batiment") != ""


def test_similar_questions_are_closer_than_unrelated_ones() -> None:
    badge = features(normalise("comment avoir un badge pour le bâtiment ?"))
    close = features(normalise("badge d'acces au batiment"))
    unrelated = features(normalise("comment avoir un remboursement ?"))
    assert cosine(badge, close) > 0.45 > cosine(badge, unrelated)


def test_common_words_alone_do_not_make_questions_similar() -> None:
    how = features(normalise("comment je fais pour le faire ?"))
    assert cosine(how, features(normalise("la météo"))) == 0


def test_messages_are_grouped_by_subject() -> None:
    expected = [
        {"comment avoir un badge pour le bâtiment ?", "badge d'accès au bâtiment ?", "mon badge d'acces"},
        {"où est la cantine", "la cantine c'est où ?"},
        {"comment poser des congés", "je veux poser un jour de congé"},
        {"remboursement des frais de déplacement"},
    ]
    messages = [message(text) for group in expected for text in sorted(group)]
    assert sorted(map(sorted, wordings(group_messages(messages)))) == sorted(map(sorted, expected))


def test_the_same_question_typed_differently_is_one_wording_with_its_count() -> None:
    groups = group_messages([message("Où est la cantine ?"), message("ou est la cantine"), message("xyzzy")])
    assert groups[0].questions == [("Où est la cantine ?", 2)]
    assert groups[0].count == 2 and len(groups) == 2


def test_biggest_groups_come_first_and_grouping_is_deterministic() -> None:
    messages = [message("xyzzy"), message("la cantine"), message("cantine ?"), message("où est la cantine")]
    first = wordings(group_messages(messages))
    assert first[0] == {"la cantine", "cantine ?", "où est la cantine"}
    assert wordings(group_messages(list(reversed(messages)))) == first


def test_a_group_counts_its_conversations_people_and_out_of_scope_messages() -> None:
    group = group_messages([
        message("la cantine", "c-1"),
        message("la cantine ?", "c-1"),
        message("cantine", "c-2", outcome="out_of_scope"),  # the same person, another day
        message("cantine ??", "c-3", person="p-2"),
    ])[0]
    assert (group.count, group.conversations, group.people, group.out_of_scope) == (4, 3, 2, 1)
    assert group.described() == "4 messages dans 3 conversations (2 personnes)"


def test_a_person_who_asks_again_another_day_counts_as_two_conversations() -> None:
    def session(start: float, text: str) -> list[StoredEvent]:
        return [
            StoredEvent("0698765432", "session_started", start, {}),
            *stored_turn(text, "nlu_fallback", [("nlu_fallback", 0.45)], ["action_search_fallback"], start),
        ]

    found = conversations([*session(0.0, "la cantine ?"), *session(86_400.0, "où est la cantine")])
    groups = group_messages(unanswered_messages(found, KEY, TOPICS))
    text = nlu_yaml(groups, {}, "2024-05-10")
    assert "# Groupe 1 : 2 messages dans 2 conversations (1 personne) · pas de sujet deviné" in text
    messages = groups[0].messages
    first_session = conversation_pseudonym("0698765432", 0.0, KEY)
    assert messages[0].conversation == first_session != messages[1].conversation
    assert messages[0].person == messages[1].person == pseudonym("0698765432", KEY)


def test_the_guessed_topic_is_the_one_most_often_ranked_first_with_its_mean_confidence() -> None:
    group = group_messages([
        message("badge", guess=("ask_first_steps", 0.3)),
        message("badge ?", guess=("ask_first_steps", 0.2)),
        message("un badge", guess=("ask_join_beta", 0.4)),
        message("badge !!"),
    ])[0]
    assert group.guessed_topic == ("ask_first_steps", 0.25)
    assert group_messages([message("xyzzy")])[0].guessed_topic is None


def stored_turn(
    text: str, intent: str, ranking: list[tuple[str, float]], actions: list[str], start: float = 0.0
) -> list[StoredEvent]:
    parse_data = {
        "intent": {"name": intent, "confidence": ranking[0][1]},
        "intent_ranking": [{"name": name, "confidence": confidence} for name, confidence in ranking],
    }
    return [
        StoredEvent("0698765432", "user", start + 1.0, {"text": text, "parse_data": parse_data}),
        *(StoredEvent("0698765432", "action", start + 2.0, {"name": name}) for name in actions),
        StoredEvent("0698765432", "action", start + 3.0, {"name": "action_listen"}),
    ]


def test_unanswered_messages_are_the_fallbacks_and_out_of_scope_masked_and_pseudonymised() -> None:
    found = conversations([
        *stored_turn("c'est quoi beta ?", "ask_funding", [("ask_funding", 0.9)], ["utter_ask_funding"]),
        *stored_turn(
            "badge pour a.b@c.fr",
            "nlu_fallback",
            [("nlu_fallback", 0.45), ("greet", 0.3), ("ask_first_steps", 0.2)],
            ["action_search_fallback"],
        ),
        *stored_turn("la météo", "out_of_scope", [("out_of_scope", 0.9), ("ask_funding", 0.09)], []),
    ])
    unanswered = unanswered_messages(found, KEY, TOPICS)
    assert [(m.text, m.outcome, m.guess) for m in unanswered] == [
        ("badge pour [e-mail masqué]", "fallback", ("ask_first_steps", 0.2)),
        ("la météo", "out_of_scope", None),  # a topic ranked that low is no lead
    ]
    assert {m.person for m in unanswered} == {pseudonym("0698765432", KEY)}
    # Stored without a session start: one conversation, from its first message.
    assert {m.conversation for m in unanswered} == {conversation_pseudonym("0698765432", 1.0, KEY)}


GUESS = ("ask_first_steps", 0.31)


def exported(texts_by_group: list[list[str]], guess: tuple[str, float] | None = GUESS) -> str:
    messages = [
        message(text, f"c-{i}", guess, person=f"p-{i}")
        for texts in texts_by_group
        for i, text in enumerate(texts)
    ]
    return nlu_yaml(group_messages(messages), {"ask_first_steps": "Mes premiers pas"}, "2024-05-10")


def test_the_export_is_rasa_nlu_data_with_one_block_to_label_per_group() -> None:
    text = exported([["badge d'accès ?", "comment avoir un badge d'accès"], ["où est la cantine ?"]])
    training_data = RasaYAMLReader().reads(text)
    assert {example.get("intent") for example in training_data.intent_examples} == {TO_LABEL}
    assert sorted(example.get("text") for example in training_data.intent_examples) == sorted(
        ["badge d'accès ?", "comment avoir un badge d'accès", "où est la cantine ?"]
    )
    assert [len(item["examples"].splitlines()) for item in yaml.safe_load(text)["nlu"]] == [2, 1]


def test_each_group_has_a_comment_with_its_count_and_guessed_topic() -> None:
    text = exported([["badge d'accès ?", "comment avoir un badge d'accès"]])
    comment = next(line for line in text.splitlines() if "Groupe 1" in line)
    assert "2 messages dans 2 conversations (2 personnes)" in comment
    assert "sujet deviné : ask_first_steps (« Mes premiers pas », confiance 0.31)" in comment
    expected = "# Groupe 1 : 1 message dans 1 conversation (1 personne) · pas de sujet deviné"
    assert expected in exported([["xyzzy"]], None)


def test_an_empty_export_is_still_valid() -> None:
    assert RasaYAMLReader().reads(nlu_yaml([], {}, "2024-05-10")).intent_examples == []


def test_known_examples_are_read_from_the_nlu_files_without_annotations(tmp_path: Path) -> None:
    (tmp_path / "incubators.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: inform_administration\n    examples: |\n'
        "      - au ministère de [la Justice](administration)\n      - Où est la cantine ?\n",
        encoding="utf-8",
    )
    expected = {normalise("au ministère de la Justice"), normalise("où est la cantine")}
    assert known_examples(tmp_path) == expected


def test_questions_and_their_labels_are_read_back_from_the_export() -> None:
    text = exported([["badge d'accès ?"]]).replace(f"intent: {TO_LABEL}", "intent: ask_first_steps")
    assert nlu_questions(text) == [("ask_first_steps", "badge d'accès ?")]


def fake_model(answers: dict[str, tuple[str, float, list[tuple[str, float]]]]) -> check.Parser:
    def parse(text: str) -> dict[str, Any]:
        intent, confidence, ranking = answers[text]
        return {
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }

    return parse


def test_the_check_compares_the_model_with_the_labels_and_names_the_best_topic_of_a_fallback() -> None:
    parse = fake_model({
        "badge ?": ("ask_first_steps", 0.81, [("ask_first_steps", 0.81)]),
        "financement": ("ask_join_beta", 0.6, [("ask_join_beta", 0.6), ("ask_funding", 0.3)]),
        "xyzzy": ("nlu_fallback", 0.45, [("nlu_fallback", 0.45), ("greet", 0.2), ("ask_funding", 0.12)]),
        "la météo": ("out_of_scope", 0.99, [("out_of_scope", 0.99), ("ask_funding", 0.01)]),
    })
    pairs = [("ask_first_steps", "badge ?"), ("ask_funding", "financement")]
    pairs += [(TO_LABEL, "xyzzy"), (TO_LABEL, "la météo")]
    checks = check.check_questions(pairs, parse, TOPICS)
    assert [(c.label, c.predicted, c.understood) for c in checks] == [
        ("ask_first_steps", "ask_first_steps", True),
        ("ask_funding", "ask_join_beta", True),
        (None, "nlu_fallback", False),
        (None, "out_of_scope", False),
    ]
    assert checks[2].best_topic == ("ask_funding", 0.12)
    assert checks[3].best_topic is None  # ranked too low to mean anything
    text = check.describe(checks)
    assert text.splitlines()[0].startswith("OK") and text.splitlines()[2].startswith("DIFFÉRENT")
    assert "meilleur sujet ask_funding (0.12)" in text
    assert "4 questions : 2 comprises par le modèle actuel, 2 toujours en secours ou hors sujet." in text
    assert "2 étiquetées, dont 1 que le modèle attribue à leur étiquette." in text


def test_the_check_classifies_the_stored_message_and_shows_it_masked() -> None:
    typed = "écrire à jean.dupont@beta.gouv.fr pour le badge"
    masked = "écrire à [e-mail masqué] pour le badge"
    found = conversations(
        stored_turn(typed, "nlu_fallback", [("nlu_fallback", 0.45)], ["action_search_fallback"])
    )
    originals = check.stored_texts(found)
    assert originals == {masked: typed}
    parse = fake_model({typed: ("ask_first_steps", 0.8, [("ask_first_steps", 0.8)])})  # not the masked text
    [checked] = check.check_questions([(TO_LABEL, masked)], parse, TOPICS, originals)
    assert (checked.question, checked.predicted) == (masked, "ask_first_steps")
    assert "jean.dupont" not in check.describe([checked])


def test_a_question_no_longer_stored_is_classified_as_written_and_shown_masked() -> None:
    parse = fake_model({"mon numéro 06 12 34 56 78": ("nlu_fallback", 0.4, [("nlu_fallback", 0.4)])})
    [checked] = check.check_questions([(TO_LABEL, "mon numéro 06 12 34 56 78")], parse, TOPICS, {})
    assert checked.question == "mon numéro [téléphone masqué]"


def test_the_latest_model_is_used(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make train"):
        check.latest_model(tmp_path)
    old, new = tmp_path / "old.tar.gz", tmp_path / "new.tar.gz"
    old.write_bytes(b"")
    new.write_bytes(b"")
    os.utime(old, (1, 1))
    assert check.latest_model(tmp_path) == new
