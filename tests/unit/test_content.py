"""The maintainer-edited content: catalog rules, and the validation that guards every edit."""

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from actions.content import (
    CONTENT_DIR_ENV,
    DEFAULT_CONTENT_DIR,
    Content,
    ContentError,
    get_content,
    load_content,
)

REPO = Path(__file__).resolve().parents[2]
URL = re.compile(r"https?://[^\s\"'<>()\[\]]+")


def catalog_urls(content: Content) -> set[str]:
    urls = {page.url for page in content.pages} | {content.list_page}
    for incubator in content.incubators:
        urls |= {incubator.page, *([incubator.website] if incubator.website else [])}
    return urls


def topic_slot_intents() -> set[str]:
    """The intents whose answer sets the `topic` slot (domain.yml)."""
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
    mappings = domain["slots"]["topic"]["mappings"]
    return {mapping["intent"] for mapping in mappings if mapping.get("type") == "from_intent"}


def intents_answered_by_a_rule() -> set[str]:
    """The intents that a one-question rule answers (data/rules/)."""
    answered = set()
    for path in (REPO / "data" / "rules").glob("*.yml"):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules") or []:
            intents = [step["intent"] for step in rule["steps"] if "intent" in step]
            if len(intents) == 1 and not rule.get("condition") and not rule.get("conversation_start"):
                answered.add(intents[0])
    return answered


def test_the_topics_are_the_same_in_content_domain_and_rules(content: Content) -> None:
    """A topic added in one place and forgotten in another fails here: no list is kept by hand."""
    assert set(content.topics) == topic_slot_intents()
    assert set(content.topics) <= intents_answered_by_a_rule()


def test_every_topic_is_an_intent_of_the_domain(content: Content) -> None:
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
    assert set(content.topics) <= set(domain["intents"])


def test_probable_pages_only_serve_topics_without_a_verified_page(content: Content) -> None:
    verified_topics = {topic for page in content.pages if page.verified for topic in page.topics}
    probable_topics = {topic for page in content.pages if not page.verified for topic in page.topics}
    assert not probable_topics & verified_topics


def test_every_url_of_the_domain_comes_from_the_catalog(content: Content) -> None:
    domain_text = (REPO / "domain.yml").read_text(encoding="utf-8")
    assert set(URL.findall(domain_text)) <= catalog_urls(content)


def test_get_content_reads_the_directory_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = shutil.copytree(DEFAULT_CONTENT_DIR, tmp_path / "content")
    pages = directory / "pages.yml"
    pages.write_text(pages.read_text(encoding="utf-8").replace("L'approche beta.gouv.fr", "Autre titre"))
    monkeypatch.setenv(CONTENT_DIR_ENV, str(directory))
    assert get_content().pages[0].title == "Autre titre"


def _replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        path = directory / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_replace("pages.yml", "https://beta.gouv.fr/bilan/2025", "http://beta.gouv.fr/bilan/2025"), "https"),
        (
            _replace(
                "pages.yml", "url: https://www.numerique.gouv.fr/", "url: https://beta.gouv.fr/approche/"
            ),
            "duplicate url",
        ),
        (_replace("pages.yml", "id: bilan-2025", "id: approche"), "duplicate id"),
        (
            _replace("pages.yml", "topics: [ask_what_is_beta_gouv]", "topics: [ask_meteo]"),
            "unknown topic ask_meteo",
        ),
        (_replace("pages.yml", "title: Le manifeste beta.gouv.fr", "title: Le [manifeste]"), "brackets"),
        (
            _replace(
                "pages.yml",
                "    topics: [ask_values_manifesto, ask_startup_etat_approach]\n",
                "    topics: [ask_startup_etat_approach]\n",
            ),
            "no page for topic ask_values_manifesto",
        ),
        (
            _replace("topics.yml", "label: Qu'est-ce que beta.gouv.fr\u202f?", "label: " + "x" * 41),
            "label longer",
        ),
        (_replace("followups.yml", "default: ask_startup_phases", "default: ask_meteo"), "ask_meteo"),
        (
            _replace("followups.yml", "default: ask_startup_phases", "default: ask_incubator_list"),
            "ask_incubator_list is not a topic with its own answer",
        ),
        (
            _replace(
                "incubators.yml", "aliases: [Cerema, Accélérema]", "aliases: [Cerema, Accélérema, Justice]"
            ),
            "alias 'Justice' given to both",
        ),
        (
            _replace(
                "incubators.yml", "    note: C'est une ancienne page en doublon, sans produit actif.\n", ""
            ),
            "needs a note",
        ),
        (
            _replace("incubators.yml", "administration: cerema", "administration: sports"),
            "unknown administration",
        ),
    ],
)
def test_load_content_rejects_a_broken_edit(
    tmp_path: Path, edit: Callable[[Path], None], message: str
) -> None:
    directory = shutil.copytree(DEFAULT_CONTENT_DIR, tmp_path / "content")
    edit(directory)
    with pytest.raises(ContentError, match=re.escape(message)):
        load_content(directory)


def test_load_content_accepts_the_repository_content() -> None:
    """Every rule the loader enforces (each shown above to be enforced) holds for the repository's content:
    https links, unique page ids and URLs, a page for every topic, labels that fit on a button..."""
    assert load_content(DEFAULT_CONTENT_DIR).topics
