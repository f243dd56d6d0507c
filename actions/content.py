"""Maintainer-edited content (content/*.yml), loaded and validated once per process.

The directory comes from the BIENVENUE_CONTENT_DIR environment variable, else <repo>/content (settings.py);
each directory is read once, so a test that points the variable elsewhere needs no cache clearing.
Every rule the actions rely on is checked at load time, so a bad edit fails loudly at start-up
(and in the unit tests) instead of producing a wrong answer in a conversation.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

import settings
from actions.text import words

CONTENT_DIR_ENV = "BIENVENUE_CONTENT_DIR"
DEFAULT_CONTENT_DIR: Path = settings.value(CONTENT_DIR_ENV, {})
MAX_LABEL_LENGTH = 40
# libyaml's loader when PyYAML has it: the same safe loading, several times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Answered by action_find_incubator rather than by an utter_<topic> response.
INCUBATOR_LIST_TOPIC = "ask_incubator_list"


class ContentError(ValueError):
    """A content file breaks a rule that the actions rely on."""


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    url: str
    topics: tuple[str, ...]
    summary: str
    verified: bool


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    keywords: str


@dataclass(frozen=True)
class Administration:
    id: str
    label: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Incubator:
    id: str
    name: str
    administration: str
    page: str
    displayed: bool
    website: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Followup:
    default: str
    after: dict[str, str]


@dataclass(frozen=True)
class Content:
    pages: tuple[Page, ...]
    topics: dict[str, Topic]
    administrations: tuple[Administration, ...]
    incubators: tuple[Incubator, ...]
    list_page: str
    as_of: str
    followups: dict[str, Followup]

    def known_topic(self, value: Any) -> str | None:
        """Return `value` if it names a topic (e.g. the `topic` slot), else None."""
        return value if isinstance(value, str) and value in self.topics else None

    def administration(self, administration_id: str) -> Administration:
        return next(a for a in self.administrations if a.id == administration_id)


def _read(directory: Path, name: str) -> dict[str, Any]:
    path = directory / name
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as error:
        raise ContentError(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping at the top level")
    return data


def _is_https(url: Any) -> bool:
    return isinstance(url, str) and url.startswith("https://") and " " not in url


def _text(entry: dict[str, Any], key: str, where: str, errors: list[str]) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}: '{key}' must be a non-empty text")
        return ""
    return value.strip()


def _parse_topics(data: dict[str, Any], errors: list[str]) -> dict[str, Topic]:
    topics = {}
    for topic_id, entry in (data.get("topics") or {}).items():
        where = f"topics.yml {topic_id}"
        if not isinstance(entry, dict):
            errors.append(f"{where}: expected a mapping")
            continue
        label = _text(entry, "label", where, errors)
        if len(label) > MAX_LABEL_LENGTH:
            errors.append(f"{where}: label longer than {MAX_LABEL_LENGTH} characters")
        topics[topic_id] = Topic(topic_id, label, _text(entry, "keywords", where, errors))
    if not topics:
        errors.append("topics.yml: no topic")
    return topics


def _parse_pages(data: dict[str, Any], topics: dict[str, Topic], errors: list[str]) -> tuple[Page, ...]:
    pages = []
    for index, entry in enumerate(data.get("pages") or []):
        where = f"pages.yml page {entry.get('id', index)}"
        title = _text(entry, "title", where, errors)
        if "[" in title or "]" in title:
            errors.append(f"{where}: brackets in a title break the Markdown link")
        url = entry.get("url")
        if not _is_https(url):
            errors.append(f"{where}: url must start with https://")
        page_topics = tuple(entry.get("topics") or ())
        if not page_topics:
            errors.append(f"{where}: serves no topic")
        errors.extend(f"{where}: unknown topic {t}" for t in page_topics if t not in topics)
        if not isinstance(entry.get("verified"), bool):
            errors.append(f"{where}: 'verified' must be true or false")
        pages.append(
            Page(
                id=_text(entry, "id", where, errors),
                title=title,
                url=str(url),
                topics=page_topics,
                summary=_text(entry, "summary", where, errors),
                verified=bool(entry.get("verified")),
            )
        )
    for field in ("id", "url"):
        values = [getattr(page, field) for page in pages]
        errors.extend(f"pages.yml: duplicate {field} {v}" for v in sorted(set(values)) if values.count(v) > 1)
    served = {topic for page in pages for topic in page.topics}
    errors.extend(f"pages.yml: no page for topic {t}" for t in topics if t not in served)
    return tuple(pages)


def _parse_incubators(
    data: dict[str, Any], errors: list[str]
) -> tuple[tuple[Administration, ...], tuple[Incubator, ...]]:
    administrations = []
    for entry in data.get("administrations") or []:
        where = f"incubators.yml administration {entry.get('id')}"
        aliases = tuple(str(alias) for alias in entry.get("aliases") or ())
        if not aliases:
            errors.append(f"{where}: no alias")
        administrations.append(
            Administration(_text(entry, "id", where, errors), _text(entry, "label", where, errors), aliases)
        )
    owners: dict[tuple[str, ...], str] = {}
    for administration in administrations:
        for alias in administration.aliases:
            owner = owners.setdefault(tuple(words(alias)), administration.id)
            if owner != administration.id:
                errors.append(
                    f"incubators.yml: alias '{alias}' given to both {owner} and {administration.id}"
                )
    known = {a.id for a in administrations}
    incubators = []
    for entry in data.get("incubators") or []:
        where = f"incubators.yml incubator {entry.get('id')}"
        if entry.get("administration") not in known:
            errors.append(f"{where}: unknown administration {entry.get('administration')}")
        if not _is_https(entry.get("page")):
            errors.append(f"{where}: page must start with https://")
        if "website" in entry and not _is_https(entry["website"]):
            errors.append(f"{where}: website must start with https://")
        displayed = entry.get("displayed")
        if not isinstance(displayed, bool):
            errors.append(f"{where}: 'displayed' must be true or false")
        note = entry.get("note")
        if displayed is False and not note:
            errors.append(f"{where}: a hidden incubator needs a note saying why")
        incubators.append(
            Incubator(
                id=_text(entry, "id", where, errors),
                name=_text(entry, "name", where, errors),
                administration=str(entry.get("administration")),
                page=str(entry.get("page")),
                displayed=bool(displayed),
                website=entry.get("website"),
                note=note,
            )
        )
    for name, ids in (
        ("administration", [a.id for a in administrations]),
        ("incubator", [i.id for i in incubators]),
    ):
        errors.extend(
            f"incubators.yml: duplicate {name} id {i}" for i in sorted(set(ids)) if ids.count(i) > 1
        )
    with_incubator = {incubator.administration for incubator in incubators}
    errors.extend(f"incubators.yml: no incubator for {a}" for a in sorted(known - with_incubator))
    return tuple(administrations), tuple(incubators)


def _parse_followups(
    data: dict[str, Any], topics: dict[str, Topic], errors: list[str]
) -> dict[str, Followup]:
    followups = {}
    for intent, entry in (data.get("followups") or {}).items():
        after = dict(entry.get("after") or {})
        for target in [entry.get("default"), *after.values()]:
            if target not in topics or target == INCUBATOR_LIST_TOPIC:
                errors.append(f"followups.yml {intent}: {target} is not a topic with its own answer")
        errors.extend(f"followups.yml {intent}: unknown topic {t}" for t in after if t not in topics)
        followups[intent] = Followup(str(entry.get("default")), after)
    return followups


def load_content(directory: Path) -> Content:
    """Read and check the four content files of `directory`; raise ContentError listing every problem."""
    errors: list[str] = []
    topics = _parse_topics(_read(directory, "topics.yml"), errors)
    pages = _parse_pages(_read(directory, "pages.yml"), topics, errors)
    incubator_data = _read(directory, "incubators.yml")
    administrations, incubators = _parse_incubators(incubator_data, errors)
    if not _is_https(incubator_data.get("list_page")):
        errors.append("incubators.yml: list_page must start with https://")
    as_of = _text(incubator_data, "as_of", "incubators.yml", errors)
    followups = _parse_followups(_read(directory, "followups.yml"), topics, errors)
    if errors:
        raise ContentError("Invalid content in {}:\n- {}".format(directory, "\n- ".join(errors)))
    return Content(
        pages=pages,
        topics=topics,
        administrations=administrations,
        incubators=incubators,
        list_page=str(incubator_data["list_page"]),
        as_of=as_of,
        followups=followups,
    )


def content_dir() -> Path:
    """The directory of the content the actions use, as the environment names it now."""
    return settings.value(CONTENT_DIR_ENV)


@lru_cache(maxsize=4)
def content_in(directory: Path) -> Content:
    """The content of `directory`, loaded once."""
    return load_content(directory)


def get_content() -> Content:
    """The content used by the actions."""
    return content_in(content_dir())
