"""make report's files, from a store written through Rasa's SQLTrackerStore: report.json has the figures of
what was generated, report.html is self-contained, unanswered.yml is NLU data to label, and none of them
shows a conversation id or the personal data typed in a message."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from reports import store
from reports.conversations import Conversation, conversations
from reports.privacy import SECRET_ENV, pseudonym
from reports.report import Report, build_report, topic_labels, write_report
from reports.unanswered import TO_LABEL, normalise
from tests.unit import report_data
from tests.unit.report_data import PARIS

REPO = Path(__file__).resolve().parents[2]
KEY = b"a key for the report tests, 32 b"
GENERATED_AT = datetime(2024, 5, 10, 8, 0, tzinfo=timezone.utc)
PERSONAL = ["jean.dupont", "beta.gouv.fr,", "06 12 34 56 78", *report_data.SENDERS.values()]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "conversations.db"
    report_data.write_conversations(report_data.sqlite_store(str(path)))
    return path


@pytest.fixture(scope="module")
def stored(database: Path) -> list[Conversation]:
    engine = store.open_store(f"sqlite:///{database}")
    assert engine is not None
    return conversations(store.read_events(engine))


def build(found: list[Conversation], **options: object) -> Report:
    arguments: dict = {
        "key": KEY, "labels": topic_labels(), "known_examples": set(), "tz": PARIS,
        "generated_at": GENERATED_AT, "retention_days": 90, **options,
    }
    return build_report(found, **arguments)


@pytest.fixture(scope="module")
def written(stored: list[Conversation], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    paths = write_report(build(stored), topic_labels(), tmp_path_factory.mktemp("report"))
    return {name: path.read_text(encoding="utf-8") for name, path in paths.items()}


def test_report_json_has_the_generated_figures(written: dict[str, str]) -> None:
    report = json.loads(written["report.json"])
    assert report["totals"] == report_data.EXPECTED_TOTALS
    assert report["per_day"] == report_data.EXPECTED_PER_DAY
    assert {row["topic"]: (row["answers"], row["positive"], row["negative"]) for row in report["topics"]} == (
        report_data.EXPECTED_TOPICS
    )
    assert report["period"] == {"from": "2024-05-06", "to": "2024-05-09", "requested_days": None}
    assert (report["retention_days"], report["generated_at"]) == (90, "2024-05-10T10:00+02:00")


def test_unanswered_questions_are_grouped_with_counts_guesses_and_pseudonyms(written: dict[str, str]) -> None:
    unanswered = json.loads(written["report.json"])["unanswered"]
    groups = unanswered["groups"]
    assert unanswered["messages"] == 7
    assert sorted(map(sorted, ({q["text"] for q in g["questions"]} for g in groups))) == sorted(
        map(sorted, report_data.EXPECTED_GROUPS)
    )
    badge = groups[0]  # the only group of two comes first
    assert (badge["count"], badge["conversations"], badge["people"]) == (2, 2, 2)
    assert badge["guessed_topic"]["topic"] == "ask_first_steps"
    assert badge["guessed_topic"]["confidence"] == 0.29  # (0.31 + 0.27) / 2
    assert {m["person"] for m in badge["messages"]} == {
        pseudonym(report_data.SENDERS["web"], KEY), pseudonym(report_data.SENDERS["mattermost"], KEY)
    }
    assert {m["channel"] for m in badge["messages"]} == {"Page web", "Mattermost"}


def test_the_html_report_is_self_contained_with_its_plots(written: dict[str, str]) -> None:
    html = written["report.html"]
    assert len(re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', html)) == 6
    assert re.search(r"""(?:src|href)\s*=\s*(?!["']?data:)""", html) is None
    assert "<script" not in html and "<link" not in html and "url(" not in html and "@import" not in html


def test_the_html_report_shows_the_key_figures_and_the_unanswered_questions(written: dict[str, str]) -> None:
    html = written["report.html"]
    assert "<strong>5</strong>conversations" in html and "<strong>17</strong>messages reçus" in html
    assert "<strong>4</strong>personnes" in html  # one came back the next day: two conversations
    assert "<strong>33 %</strong>sans réponse (secours)" in html
    assert "badge d&#x27;accès au bâtiment ?" in html and "Page web" in html


def test_no_file_shows_a_conversation_id_or_personal_data(written: dict[str, str]) -> None:
    for name, text in written.items():
        for personal in PERSONAL:
            assert personal not in text, f"{personal!r} in {name}"
        if name != "wrong_answers.yml":  # the message with personal data was not answered
            assert "[e-mail masqué]" in text and "[téléphone masqué]" in text, name


def test_unanswered_yml_is_nlu_data_to_label_with_a_comment_per_group(written: dict[str, str]) -> None:
    text = written["unanswered.yml"]
    examples = RasaYAMLReader().reads(text).intent_examples
    assert {example.get("intent") for example in examples} == {TO_LABEL}
    assert len(examples) == 7
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("# Groupe")]
    assert len(comments) == len(yaml.safe_load(text)["nlu"]) == 6
    assert comments[0].startswith(
        "# Groupe 1 : 2 messages dans 2 conversations (2 personnes) · sujet deviné : ask_first"
    )


def test_questions_already_in_the_training_data_are_left_out(stored: list[Conversation]) -> None:
    report = build(stored, known_examples={normalise(report_data.NONSENSE)})
    unanswered = report.content["unanswered"]
    assert (unanswered["messages"], unanswered["already_in_training_data"]) == (6, 1)
    for group in report.unanswered:
        assert report_data.NONSENSE not in {text for text, _ in group.questions}


def test_a_period_keeps_the_conversations_started_in_its_days_and_shows_them_all(
    stored: list[Conversation], tmp_path: Path
) -> None:
    # Generated on Friday 10 May: the last 4 days are Tuesday 7 to Friday 10, the last one without data.
    report = build(stored, days=4)
    assert report.content["totals"]["conversations"] == 3
    assert report.content["period"] == {"from": "2024-05-07", "to": "2024-05-10", "requested_days": 4}
    assert [row["date"] for row in report.content["per_day"]] == [
        "2024-05-07", "2024-05-08", "2024-05-09", "2024-05-10"
    ]
    html = write_report(report, topic_labels(), tmp_path)["report.html"].read_text(encoding="utf-8")
    assert "Du 07/05 au 10/05/2024, les 4 derniers jours" in html


def test_days_7_shows_the_requested_week_not_the_days_with_data(
    stored: list[Conversation], tmp_path: Path
) -> None:
    # Generated on Sunday 12 May: 6 to 12 May, although the conversations stop on the 9th.
    report = build(stored, days=7, generated_at=datetime(2024, 5, 12, 8, tzinfo=timezone.utc))
    assert report.content["totals"]["conversations"] == 5
    assert [row["date"] for row in report.content["per_day"]][::6] == ["2024-05-06", "2024-05-12"]
    html = write_report(report, topic_labels(), tmp_path)["report.html"].read_text(encoding="utf-8")
    assert "Du 06/05 au 12/05/2024, les 7 derniers jours" in html


def test_an_empty_store_still_gives_a_report(tmp_path: Path) -> None:
    paths = write_report(build([]), topic_labels(), tmp_path)
    assert "Aucune conversation enregistrée" in paths["report.html"].read_text(encoding="utf-8")
    assert RasaYAMLReader().reads(paths["unanswered.yml"].read_text(encoding="utf-8")).intent_examples == []


def run_reports(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reports", *args], cwd=REPO, env={**os.environ, **env},
        capture_output=True, text=True, timeout=600,
    )


def test_the_report_command_writes_the_four_files(database: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = run_reports("report", "--db-url", f"sqlite:///{database}", "--out", str(out),
                       env={SECRET_ENV: KEY.decode()})
    assert done.returncode == 0, done.stderr
    assert (
        "5 conversations, 17 messages, 7 questions sans réponse en 6 groupes, "
        "1 réponse probablement fausse en 1 groupe." in done.stdout
    )
    assert json.loads((out / "report.json").read_text())["totals"] == report_data.EXPECTED_TOTALS
    assert all((out / name).exists() for name in ("report.html", "unanswered.yml", "wrong_answers.yml"))


def test_a_missing_database_is_said_clearly_and_the_previous_report_stays(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.html").write_text("le rapport précédent", encoding="utf-8")
    missing = tmp_path / "var" / "conversations.db"
    done = run_reports("report", "--db-url", f"sqlite:///{missing}", "--out", str(out),
                       env={SECRET_ENV: KEY.decode()})
    assert done.returncode != 0
    assert f"Erreur : la base des conversations {missing} n'existe pas." in done.stderr
    assert "Le rapport précédent" in done.stderr and "Traceback" not in done.stderr
    assert (out / "report.html").read_text(encoding="utf-8") == "le rapport précédent"
    assert sorted(path.name for path in out.iterdir()) == ["report.html"]
    assert not missing.exists()
    purged = run_reports("purge", "--db-url", f"sqlite:///{missing}", env={})
    assert purged.returncode != 0 and "Rien n'a été supprimé." in purged.stderr


def test_the_purge_command_says_how_many_conversations_it_deleted(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    sql_store = report_data.sqlite_store(str(path))
    report_data.write_conversations(sql_store)  # May 2024: 6 sessions older than 90 days, a silent one too
    future = datetime(2999, 1, 1, tzinfo=timezone.utc).timestamp()
    hello = report_data.session(future, "rest", [report_data.Say("bonjour", "greet")])
    report_data.write_conversations(sql_store, {"from-the-future": hello})
    done = run_reports("purge", "--db-url", f"sqlite:///{path}", env={"BIENVENUE_RETENTION_DAYS": "90"})
    assert done.returncode == 0, done.stderr
    assert "6 conversations supprimées" in done.stdout and "90 jours" in done.stdout
    engine = store.open_store(f"sqlite:///{path}")
    assert engine is not None
    assert {event.sender_id for event in store.read_events(engine)} == {"from-the-future"}
