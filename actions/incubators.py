"""Find the administration a newcomer names, and its incubators.

Matching is on whole words, ignores case, accents and punctuation, and prefers the longest alias
("Accélérateur de la Transition Écologique" is ADEME, not the ministry's "Transition écologique").
A message naming several administrations resolves to none: the assistant asks back rather than
risk sending someone to the wrong incubator.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from actions.catalog import markdown_link
from actions.content import Administration, Content, Incubator
from actions.text import words


@dataclass(frozen=True)
class AliasIndex:
    # First word -> (alias words, administration id), longest alias first.
    by_first_word: dict[str, list[tuple[tuple[str, ...], str]]]


def build_alias_index(administrations: Iterable[Administration]) -> AliasIndex:
    by_first_word: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for administration in administrations:
        for alias in administration.aliases:
            alias_words = tuple(words(alias))
            by_first_word.setdefault(alias_words[0], []).append((alias_words, administration.id))
    for candidates in by_first_word.values():
        candidates.sort(key=lambda candidate: len(candidate[0]), reverse=True)
    return AliasIndex(by_first_word)


def find_administrations(text: str, index: AliasIndex) -> list[str]:
    """Ids of the administrations named in `text`, in order of first mention, without repeats."""
    tokens = words(text)
    found: list[str] = []
    position = 0
    while position < len(tokens):
        match = next(
            (
                (alias_words, administration_id)
                for alias_words, administration_id in index.by_first_word.get(tokens[position], [])
                if tuple(tokens[position : position + len(alias_words)]) == alias_words
            ),
            None,
        )
        if match is None:
            position += 1
            continue
        alias_words, administration_id = match
        if administration_id not in found:
            found.append(administration_id)
        position += len(alias_words)
    return found


def administrations_in_message(entity_values: Iterable[str], text: str, index: AliasIndex) -> list[str]:
    """Administrations named by the extracted entities or, when the NLU missed them, by the text itself."""
    found: list[str] = []
    for value in [*entity_values, text]:
        found.extend(a for a in find_administrations(value, index) if a not in found)
    return found


def incubators_for(content: Content, administration_id: str) -> list[Incubator]:
    """The incubators to give for an administration: the publicly listed ones, else the hidden ones."""
    incubators = [i for i in content.incubators if i.administration == administration_id]
    displayed = [i for i in incubators if i.displayed]
    return displayed or incubators


@dataclass(frozen=True)
class IncubatorReply:
    response: str
    variables: dict[str, Any]
    # Canonical id of the administration answered, for the `administration` slot.
    administration: str | None = None


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def incubator_reply(content: Content, found: list[str], named: bool) -> IncubatorReply:
    """What to answer given the administrations `found` in the message.

    `named` tells whether the user meant to name one (an extracted entity, or inform_administration):
    an unknown name then gets "I don't know this one", a plain question the list and a question back.
    """
    page = {"page": content.list_page}
    if len(found) > 1:
        return IncubatorReply("utter_incubator_ambiguous", page)
    if not found:
        if named:
            return IncubatorReply("utter_incubator_unknown", page)
        count = sum(incubator.displayed for incubator in content.incubators)
        return IncubatorReply("utter_incubator_list", {"count": count, "as_of": content.as_of, **page})

    administration = content.administration(found[0])
    incubators = incubators_for(content, administration.id)
    if len(incubators) > 1:
        links = "\n".join(f"- {markdown_link(_capitalized(i.name), i.page)}" for i in incubators)
        variables = {"administration": administration.label, "incubators": links}
        return IncubatorReply("utter_incubators_found", variables, administration.id)
    incubator = incubators[0]
    variables = {"incubator": incubator.name, "administration": administration.label, "page": incubator.page}
    if incubator.displayed:
        return IncubatorReply("utter_incubator_found", variables, administration.id)
    return IncubatorReply(
        "utter_incubator_not_listed", {**variables, "note": incubator.note}, administration.id
    )
