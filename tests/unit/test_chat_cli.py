"""The chat program's options and batch file reading."""

from pathlib import Path

import pytest

from chat.__main__ import parse_args, read_questions


def test_one_conversation_needs_a_file() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--one"])
    assert parse_args(["--file", "q.txt", "--one"]).one


def test_questions_file_skips_blank_lines_and_comments(tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text("# à vérifier\nc koi un intra ?\n\n   \n  les congés ?  \n", "utf-8")
    assert read_questions(questions) == ["c koi un intra ?", "les congés ?"]
