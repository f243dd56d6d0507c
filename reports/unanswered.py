"""Unanswered questions: the user messages that ended in a fallback or out of scope, grouped by similarity,
exported as Rasa NLU YAML for the content team to label and move into data/nlu/.

Similarity is the cosine between character trigram counts of the content words (accents, case and
punctuation folded, common French words dropped): "badge d'accès ?" and "comment avoir mon badge d'acces"
meet on "badge" and "acces", a typo or a plural costs only a trigram or two.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

from actions.text import STOPWORDS, words
from reports.conversations import Conversation, Outcome, Turn
from reports.privacy import conversation_pseudonym, mask_personal_data, pseudonym

SIMILARITY_THRESHOLD = 0.45
# Below this, the best-ranked topic is noise rather than a lead worth showing.
MIN_GUESS_CONFIDENCE = 0.1
# The intent of every exported group until someone labels it: `rasa data validate` rejects it, so an
# unlabelled group moved into data/nlu/ by mistake stops `make test` instead of teaching a wrong answer.
TO_LABEL = "a_etiqueter"

# Rasa NLU entity annotations in training examples: "[la Justice](administration)" or "[x]{...}".
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """Folded words only: two messages that differ by case, accents or punctuation compare equal."""
    return " ".join(words(text))


def features(normalised: str) -> Counter[str]:
    """Character trigrams of the content words, each padded with spaces so that word edges count."""
    tokens = normalised.split()
    content = [token for token in tokens if token not in STOPWORDS] or tokens
    return Counter(
        padded[start : start + 3]
        for token in content
        for padded in (f" {token} ",)
        for start in range(len(padded) - 2)
    )


def cosine(left: Counter[str], right: Counter[str]) -> float:
    if not left or not right:
        return 0.0
    dot = sum(count * right[gram] for gram, count in left.items())
    return dot / (_norm(left) * _norm(right))


def _norm(vector: Counter[str]) -> float:
    return math.sqrt(sum(count * count for count in vector.values()))


@dataclass(frozen=True)
class Quoted:
    """A user message quoted in the report."""

    text: str  # masked: no e-mail address nor phone number
    conversation: str  # pseudonym of the conversation session
    person: str  # pseudonym of the sender
    timestamp: float
    channel: str | None


def quoted(conversation: Conversation, turn: Turn, key: bytes) -> dict[str, Any]:
    """The fields of Quoted for one turn: its text masked, its conversation and person pseudonymised."""
    return {
        "text": mask_personal_data(" ".join(turn.text.split())),
        "conversation": conversation_pseudonym(conversation.sender_id, conversation.started, key),
        "person": pseudonym(conversation.sender_id, key),
        "timestamp": turn.timestamp,
        "channel": turn.channel,
    }


@dataclass(frozen=True)
class UnansweredMessage(Quoted):
    outcome: Outcome
    guess: tuple[str, float] | None  # the best-ranked topic at the time, and its confidence, unless too low


Message = TypeVar("Message", bound=Quoted)


@dataclass
class Group(Generic[Message]):
    messages: list[Message] = field(default_factory=list)
    centroid: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def questions(self) -> list[tuple[str, int]]:
        """Each distinct wording (by its normalised form) with its count, most frequent first."""
        counts = Counter(normalise(message.text) for message in self.messages)
        first_wording: dict[str, str] = {}
        for message in self.messages:
            first_wording.setdefault(normalise(message.text), message.text)
        return [(first_wording[key], count) for key, count in counts.most_common()]

    @property
    def conversations(self) -> int:
        """Conversation sessions: a person who asked again another day counts twice."""
        return len({message.conversation for message in self.messages})

    @property
    def people(self) -> int:
        return len({message.person for message in self.messages})

    def described(self) -> str:
        """"5 messages dans 4 conversations (3 personnes)"."""
        return (
            f"{counted(self.count, 'message')} dans {counted(self.conversations, 'conversation')}"
            f" ({counted(self.people, 'personne')})"
        )


class UnansweredGroup(Group[UnansweredMessage]):
    @property
    def out_of_scope(self) -> int:
        return sum(message.outcome == "out_of_scope" for message in self.messages)

    @property
    def guessed_topic(self) -> tuple[str, float] | None:
        """The topic the model most often ranked first for these messages, with its mean confidence."""
        guesses = [message.guess for message in self.messages if message.guess]
        if not guesses:
            return None
        votes = Counter(topic for topic, _ in guesses)
        best = max(votes, key=lambda topic: (votes[topic], sum(c for t, c in guesses if t == topic)))
        confidences = [confidence for topic, confidence in guesses if topic == best]
        return best, round(sum(confidences) / len(confidences), 2)


def unanswered_messages(
    conversations: Iterable[Conversation], key: bytes, topic_ids: Collection[str]
) -> list[UnansweredMessage]:
    """The fallback and out-of-scope messages, masked and pseudonymised, in conversation order."""
    result = []
    for conversation in conversations:
        for turn in conversation.turns:
            if turn.outcome == "answered" or not turn.text.strip():
                continue
            guess = next(((name, conf) for name, conf in turn.ranking if name in topic_ids), None)
            if guess and guess[1] < MIN_GUESS_CONFIDENCE:
                guess = None
            result.append(
                UnansweredMessage(
                    **quoted(conversation, turn, key),
                    outcome=turn.outcome,
                    guess=(guess[0], round(guess[1], 4)) if guess else None,
                )
            )
    return result


GroupType = TypeVar("GroupType", bound=Group[Any])


def group_messages(
    messages: Sequence[Quoted],
    threshold: float = SIMILARITY_THRESHOLD,
    group_type: type[GroupType] = UnansweredGroup,  # type: ignore[assignment]  # the default of the report
) -> list[GroupType]:
    """Similar messages together; the most frequent wordings found their groups, biggest group first.

    Each distinct wording joins the group whose centroid (the sum of its wordings' trigrams) is the most
    similar, when at least `threshold`; else it starts a group. Deterministic: same input, same groups.
    """
    by_wording: dict[str, list[Quoted]] = {}
    for message in messages:
        by_wording.setdefault(normalise(message.text), []).append(message)
    groups: list[GroupType] = []
    for wording, members in sorted(by_wording.items(), key=lambda item: (-len(item[1]), item[0])):
        vector = features(wording)
        scored = [(cosine(vector, group.centroid), index) for index, group in enumerate(groups)]
        best = max(scored, default=(0.0, -1))
        if vector and best[0] >= threshold:
            group = groups[best[1]]
        else:
            group = group_type()
            groups.append(group)
        group.messages.extend(members)
        group.centroid.update(vector)
    return sorted(groups, key=lambda group: -group.count)


def known_examples(nlu_dir: Path) -> set[str]:
    """The normalised training examples of data/nlu/: questions already labelled are not listed again."""
    return {
        normalise(example)
        for path in sorted(nlu_dir.glob("**/*.yml"))
        for _, example in nlu_questions(path.read_text(encoding="utf-8"))
    }


def counted(number: int, noun: str) -> str:
    """"1 message", "2 messages": French plural of a regular noun."""
    return f"{number} {noun}{'s' if number > 1 else ''}"


def _comment(text: str) -> str:
    return " ".join(text.split())


def topic_comment(topic: str, confidence: float, topic_labels: Mapping[str, str]) -> str:
    """"ask_funding (« Le financement », confiance 0.31)"."""
    return f"{topic} (« {_comment(topic_labels.get(topic, topic))} », confiance {confidence:.2f})"


def nlu_yaml(groups: Sequence[UnansweredGroup], topic_labels: Mapping[str, str], generated_on: str) -> str:
    """The groups as Rasa NLU training data, one block per group, each with a comment that describes it."""
    total = sum(group.count for group in groups)
    header = [
        f"Questions restées sans réponse (rapport du {generated_on}) : {counted(total, 'message')} en"
        f" {counted(len(groups), 'groupe')}.",
        f"Pour chaque groupe : remplacez « {TO_LABEL} » par l'intention qui convient (le sujet deviné",
        "n'est qu'une piste), supprimez les lignes hors sujet ou qui contiennent encore une donnée",
        "personnelle, puis ajoutez les lignes restantes aux exemples de cette intention dans data/nlu/.",
    ]
    comments = []
    for group in groups:
        guess = group.guessed_topic
        guessed = (
            f"sujet deviné : {topic_comment(guess[0], guess[1], topic_labels)}"
            if guess
            else "pas de sujet deviné"
        )
        scope = f", dont {group.out_of_scope} hors sujet" if group.out_of_scope else ""
        comments.append(f"{group.described()}{scope} · {guessed}")
    return labelling_yaml(header, groups, comments)


def labelling_yaml(header: Sequence[str], groups: Sequence[Group[Any]], comments: Sequence[str]) -> str:
    """Rasa NLU training data to label: one block per group, intent TO_LABEL, after the group's comment."""
    lines = [*(f"# {line}" for line in header), 'version: "3.1"', "nlu:" if groups else "nlu: []"]
    for number, (group, comment) in enumerate(zip(groups, comments, strict=True), start=1):
        lines += ["", f"  # Groupe {number} : {comment}", f"  - intent: {TO_LABEL}", "    examples: |"]
        lines += [f"      - {_comment(text)}" for text, _ in group.questions]
    return "\n".join(lines) + "\n"


def nlu_questions(text: str) -> list[tuple[str, str]]:
    """(intent, example) pairs of Rasa NLU YAML, annotations removed: what unanswered-check parses."""
    pairs = []
    for item in (yaml.safe_load(text) or {}).get("nlu") or []:
        for line in str(item.get("examples") or "").splitlines():
            example = line.strip().removeprefix("- ")
            if example:
                pairs.append((str(item.get("intent")), _ANNOTATION.sub(r"\1", example)))
    return pairs
