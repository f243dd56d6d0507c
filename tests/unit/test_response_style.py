"""Every text the assistant shows follows the house style (issue 11): French typography, short first
answers, jargon explained, one spelling convention, no raw URL. Generic on purpose: it reads every response
of domain.yml and every label and link title of content/, including topics added later.
"""

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
TOPICS = yaml.safe_load((REPO / "content" / "topics.yml").read_text(encoding="utf-8"))["topics"]
PAGES = yaml.safe_load((REPO / "content" / "pages.yml").read_text(encoding="utf-8"))["pages"]

# A topic's first answer fits a chat bubble (about 50–60 words; details come on demand).
MAX_FIRST_ANSWER_WORDS = 70
MAX_DETAILS_WORDS = 130
NO_BREAK = "\u202f\u00a0"
# A French double punctuation mark used as such (followed by a space or the end), not a URL's "https:".
BAD_PUNCTUATION_SPACE = re.compile(rf"(?<![{NO_BREAK}])[:;?!](?=\s|$)")
BAD_OPENING_QUOTE = re.compile(rf"«(?![{NO_BREAK}])")
BAD_CLOSING_QUOTE = re.compile(rf"(?<![{NO_BREAK}])»")
# One space, never two: « ␣␣aide␣␣ » shows as a gap in a chat bubble.
DOUBLED_SPACE = re.compile(rf"[{NO_BREAK}][{NO_BREAK} ]|(?<=\S) [{NO_BREAK}]")
RAW_URL = re.compile(r"https?://|www\.")
# Jargon only inside parentheses, after its explanation: « une métrique phare (North Star Metric) ».
JARGON = ("DC4", "bizdev", "North Star Metric", "focus")
# Inclusive writing: the middle dot (« chargé·e ») or both words; never « chargé(e) » nor « chargé.e ».
BAD_INCLUSIVE = re.compile(r"\w\((e|es|s|ne|le|trice)\)|[a-zé]\.(e|es)(?=[\s,;.)]|$)")
# « startup » is written as in « Startup d'État », never « start-up ».
BAD_STARTUP = re.compile(r"start-up", re.IGNORECASE)
TUTOIEMENT = re.compile(r"\b(tu|toi|ton|ta|tes)\b", re.IGNORECASE)


def response_texts() -> list[tuple[str, str]]:
    texts = []
    for name, variants in DOMAIN["responses"].items():
        for variant in variants:
            texts.append((name, variant.get("text") or ""))
            texts.extend((f"{name} button", button["title"]) for button in variant.get("buttons") or [])
    return texts


def shown_texts() -> list[tuple[str, str]]:
    labels = [(f"topics.yml {topic}", entry["label"]) for topic, entry in TOPICS.items()]
    titles = [(f"pages.yml {page['id']}", page["title"]) for page in PAGES]
    return response_texts() + labels + titles


def words(text: str) -> int:
    return len(re.sub(r"\{\w+\}", "", text).split())


SHOWN = shown_texts()
IDS = [name for name, _ in SHOWN]


@pytest.mark.parametrize(("name", "text"), SHOWN, ids=IDS)
def test_no_break_space_before_double_punctuation_and_inside_quotes(name: str, text: str) -> None:
    for pattern in (BAD_PUNCTUATION_SPACE, BAD_OPENING_QUOTE, BAD_CLOSING_QUOTE, DOUBLED_SPACE):
        match = pattern.search(text)
        assert match is None, f"{name}: {text[max(0, match.start() - 30):match.end() + 10]!r}"


@pytest.mark.parametrize(("name", "text"), SHOWN, ids=IDS)
def test_spelling_conventions(name: str, text: str) -> None:
    assert not BAD_STARTUP.search(text), f"{name}: write « startup »"
    assert not BAD_INCLUSIVE.search(text), f"{name}: inclusive writing uses the middle dot (·)"
    assert not TUTOIEMENT.search(text), f"{name}: the assistant says « vous »"


@pytest.mark.parametrize(("name", "text"), response_texts(), ids=[n for n, _ in response_texts()])
def test_no_raw_url_outside_the_catalog(name: str, text: str) -> None:
    # Links come from content/pages.yml through {links} or {page}, so that one file holds every address.
    assert not RAW_URL.search(text), name


@pytest.mark.parametrize(("name", "text"), response_texts(), ids=[n for n, _ in response_texts()])
def test_jargon_is_explained(name: str, text: str) -> None:
    outside_parentheses = re.sub(r"\([^)]*\)", "", text)
    for term in JARGON:
        assert not re.search(rf"\b{re.escape(term)}\b", outside_parentheses, re.IGNORECASE), (
            f"{name}: explain « {term} » in plain words, the term itself in parentheses"
        )


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_first_answers_fit_a_chat_bubble_and_details_stay_short(topic: str) -> None:
    responses = DOMAIN["responses"]
    for variant in responses.get(f"utter_{topic}") or []:
        count = words(variant["text"])
        assert count <= MAX_FIRST_ANSWER_WORDS, f"utter_{topic}: {count} words"
    for variant in responses.get(f"utter_{topic}_details") or []:
        count = words(variant["text"])
        assert count <= MAX_DETAILS_WORDS, f"utter_{topic}_details: {count} words"


def test_the_check_sees_every_response() -> None:
    # A guard against a YAML layout change that would silently empty the parametrised tests above.
    assert len(DOMAIN["responses"]) >= 40
    assert all(f"utter_{topic}" in DOMAIN["responses"] or topic == "ask_incubator_list" for topic in TOPICS)
