"""Probably wrong answers: from conversations written through Rasa's SQLTrackerStore, the typed questions
answered with a topic and followed by a sign that the answer missed (low confidence, 👎, a rephrasing within
a minute, « non / pas ça »), grouped like the unanswered questions, shown in the report and exported to
label."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from reports import store
from reports.conversations import Conversation, conversations
from reports.report import Report, build_report, topic_labels, write_report
from reports.unanswered import TO_LABEL
from reports.wrong import is_denial, wrong_answers
from tests.unit import report_data
from tests.unit.report_data import PARIS

KEY = b"a key for the report tests, 32 b"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> list[Conversation]:
    path = tmp_path_factory.mktemp("store") / "conversations.db"
    writer = report_data.sqlite_store(str(path))
    report_data.write_wrong_answers(writer)
    writer.engine.dispose()
    return conversations(store.read_events(store.open_store(f"sqlite:///{path}")))


@pytest.fixture(scope="module")
def report(stored: list[Conversation]) -> Report:
    return build_report(
        stored, key=KEY, labels=topic_labels(), known_examples=set(), tz=PARIS,
        generated_at=datetime(2024, 5, 10, 8, tzinfo=timezone.utc), retention_days=90,
    )


def test_the_wrong_answers_are_grouped_with_their_counts_topic_and_reasons(report: Report) -> None:
    groups = report.content["wrong_answers"]["groups"]
    found = {
        frozenset(q["text"] for q in group["questions"]): (
            group["count"], group["conversations"], group["people"],
            (group["answered_topic"]["topic"], group["answered_topic"]["confidence"]), group["reasons"],
        )
        for group in groups
    }
    assert found == report_data.EXPECTED_WRONG
    assert groups[0]["count"] == 4  # the biggest group first
    assert report.content["wrong_answers"]["messages"] == 6


def test_each_message_says_why_and_quotes_what_came_next(report: Report) -> None:
    messages = {
        message["text"]: message for group in report.content["wrong_answers"]["groups"]
        for message in group["messages"]
    }
    denied = messages[report_data.ROLES_DENIED]
    assert (denied["reasons"], denied["next_text"]) == (["denied"], "non c'est pas ça")
    rephrased = messages[report_data.ROLES_REPHRASED]
    assert rephrased["reasons"] == ["rephrased"] and rephrased["topic"] == "ask_team_roles"
    assert messages[report_data.ROLES_LOW_1]["confidence"] == 0.6


def test_answers_without_a_sign_or_chosen_with_a_button_are_not_listed(stored: list[Conversation]) -> None:
    found = wrong_answers(stored, KEY, topic_labels().keys())
    texts = {message.text for message in found}
    # Asked again after two minutes, followed by a follow-up question, by « non merci », or a button click.
    assert not texts & {"les rôles dans une équipe ?", "c'est quoi une SE", "le financement", "/ask_funding"}
    assert "qui fait quoi dans une équipe produit ?" not in texts  # the rephrasing itself was not disowned


@pytest.mark.parametrize(
    "text",
    ["non", "Non, c'est pas ça !", "pas ça", "ce n'est pas ce que je demande", "c'est faux",
     "ça ne répond pas à ma question", "vous n'avez pas compris", "mauvaise réponse", "rien à voir"],
)
def test_denials(text: str) -> None:
    assert is_denial(text)


@pytest.mark.parametrize(
    "text",
    ["non merci", "merci", "pas clair", "comment on finance une startup ?", "nonante",
     "non mais où est la page des financements pour les startups et des subventions de l'État ?"],
)
def test_not_denials(text: str) -> None:
    assert not is_denial(text)


def test_the_report_shows_the_section_and_exports_the_groups_to_label(report: Report, tmp_path: Path) -> None:
    paths = write_report(report, topic_labels(), tmp_path)
    html = paths["report.html"].read_text(encoding="utf-8")
    assert "<h2>Réponses probablement fausses</h2>" in html
    assert "rôles équipe" in html and "confiance basse : 2, reformulée : 1, « non » : 1" in html
    text = paths["wrong_answers.yml"].read_text(encoding="utf-8")
    examples = RasaYAMLReader().reads(text).intent_examples
    assert {example.get("intent") for example in examples} == {TO_LABEL}
    assert len(examples) == 6 and len(yaml.safe_load(text)["nlu"]) == 3
    comment = next(line.strip() for line in text.splitlines() if line.strip().startswith("# Groupe 1 "))
    assert comment.startswith(
        "# Groupe 1 : 4 messages dans 4 conversations (3 personnes) · répondu : ask_team_roles ("
    )
    assert comment.endswith("confiance 0.75) · confiance basse 2, reformulé 1, « non » 1")
    assert json.loads(paths["report.json"].read_text())["wrong_answers"]["low_confidence_below"] == 0.7
