"""Probably wrong answers: typed questions the assistant answered with a topic, but that something suggests it
misunderstood. Grouped by similarity like the unanswered questions and exported the same way, to label with
the intent that would have been right.

An answer is probably wrong when (each a reason, several may hold):
- low_confidence: the NLU chose its topic with a confidence below LOW_CONFIDENCE;
- feedback_negative: the person gave 👎 about it (the next feedback in the conversation, before another
  answer);
- rephrased: the person's next message, typed within REPHRASE_SECONDS of the question, asks a topic again
  (the same or another: its intent is a topic) or gets the fallback; follow-ups ("et ça dure combien de
  temps ?"), thanks, feedback and out-of-scope messages are not rephrasings;
- denied: the person's next message says the answer missed, « non », « pas ça », « c'est faux »…
Button clicks are left out: the person chose the topic, there is no wording to label.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from reports.conversations import Conversation, Turn
from reports.privacy import mask_personal_data
from reports.unanswered import (
    TO_LABEL,
    Group,
    Quoted,
    counted,
    labelling_yaml,
    normalise,
    quoted,
    topic_comment,
)

LOW_CONFIDENCE = 0.7
REPHRASE_SECONDS = 60
REASONS = ("low_confidence", "feedback_negative", "rephrased", "denied")
REASON_LABELS = {
    "low_confidence": "confiance basse",
    "feedback_negative": "👎",
    "rephrased": "reformulé",
    "denied": "« non »",
}
# A reply that says the answer missed, on the normalised text (folded words): « non », « non, c'est pas ça »,
# « ce n'est pas ce que je demande », « ça ne répond pas », « c'est faux »… but not « non merci ».
_DENIAL = re.compile(
    r"^(?:mais |ben |bah |euh )?(?:"
    r"non(?! merci\b)(?: .*)?"
    r"|(?:c |c est |ce n est |ce |ca n est |n est )?pas "
    r"(?:ca|cela|ce que|ma question|la question|du tout|la bonne|compris|de rapport)(?: .*)?"
    r"|(?:c est |ca c est )?(?:faux|hors sujet|n importe quoi|rien a voir)(?: .*)?"
    r"|(?:mauvaise|pas la bonne) reponse(?: .*)?"
    r"|(?:tu n as|vous n avez|t as|tu as|vous avez) (?:pas|mal) compris(?: .*)?"
    r"|(?:ca|cela) (?:ne )?repond pas(?: .*)?"
    r")$"
)
# Longer messages say more than a denial: they are questions in their own right.
_MAX_DENIAL_WORDS = 10


def is_denial(text: str) -> bool:
    folded = normalise(text)
    return len(folded.split()) <= _MAX_DENIAL_WORDS and _DENIAL.match(folded) is not None


@dataclass(frozen=True)
class WrongAnswer(Quoted):
    topic: str  # the topic answered
    confidence: float  # the NLU's confidence in the message's intent
    reasons: tuple[str, ...]  # in the order of REASONS
    next_text: str | None  # the person's next message, masked: the rephrasing or the denial


class WrongGroup(Group[WrongAnswer]):
    @property
    def answered_topic(self) -> tuple[str, float]:
        """The topic most often answered to these messages, with the mean confidence it was chosen with."""
        votes = Counter(message.topic for message in self.messages)
        best = max(votes, key=lambda topic: (votes[topic], topic))
        confidences = [message.confidence for message in self.messages if message.topic == best]
        return best, round(sum(confidences) / len(confidences), 2)

    @property
    def reasons(self) -> dict[str, int]:
        """How many messages each reason holds for, in the order of REASONS (the ones with none left out)."""
        counts = Counter(reason for message in self.messages for reason in message.reasons)
        return {reason: counts[reason] for reason in REASONS if counts[reason]}


def _confidence(turn: Turn) -> float:
    return next((confidence for name, confidence in turn.ranking if name == turn.intent), 0.0)


def _rephrases(answer: Turn, following: Turn, topic_ids: Collection[str]) -> bool:
    if following.is_button or following.feedback or following.timestamp - answer.timestamp > REPHRASE_SECONDS:
        return False
    asks_a_topic = following.outcome == "answered" and following.intent in topic_ids
    return asks_a_topic or following.outcome == "fallback"


def _reasons(
    turns: Sequence[Turn], index: int, disowned: set[int], topic_ids: Collection[str]
) -> tuple[str, ...]:
    turn = turns[index]
    following = turns[index + 1] if index + 1 < len(turns) else None
    found = {
        "low_confidence": _confidence(turn) < LOW_CONFIDENCE,
        "feedback_negative": index in disowned,
        "rephrased": following is not None and _rephrases(turn, following, topic_ids),
        "denied": following is not None and not following.is_button and is_denial(following.text),
    }
    return tuple(reason for reason in REASONS if found[reason])


def _disowned(turns: Sequence[Turn]) -> set[int]:
    """The indices of the answers a 👎 was about: the last topic answered before it in the conversation."""
    result, last_answer = set(), None
    for index, turn in enumerate(turns):
        if turn.feedback == "negative" and last_answer is not None:
            result.add(last_answer)
            last_answer = None  # one 👎, one answer
        elif turn.topic and turn.outcome == "answered":
            last_answer = index
    return result


def wrong_answers(
    conversations: Iterable[Conversation], key: bytes, topic_ids: Collection[str]
) -> list[WrongAnswer]:
    """The typed questions answered with a topic for which a reason holds, masked and pseudonymised."""
    result = []
    for conversation in conversations:
        turns = conversation.turns
        disowned = _disowned(turns)
        for index, turn in enumerate(turns):
            answered = turn.topic and turn.outcome == "answered" and turn.intent in topic_ids
            if not answered or turn.is_button or not turn.text.strip():
                continue
            reasons = _reasons(turns, index, disowned, topic_ids)
            if not reasons:
                continue
            following = turns[index + 1] if index + 1 < len(turns) else None
            next_text = " ".join(following.text.split()) if following else None
            result.append(
                WrongAnswer(
                    **quoted(conversation, turn, key),
                    topic=str(turn.topic),
                    confidence=round(_confidence(turn), 4),
                    reasons=reasons,
                    next_text=mask_personal_data(next_text) if next_text else None,
                )
            )
    return result


def reasons_comment(reasons: Mapping[str, int]) -> str:
    return ", ".join(f"{REASON_LABELS[reason]} {count}" for reason, count in reasons.items())


def wrong_yaml(groups: Sequence[WrongGroup], topic_labels: Mapping[str, str], generated_on: str) -> str:
    """The groups as Rasa NLU training data to label, like the unanswered questions' export."""
    total = sum(group.count for group in groups)
    header = [
        f"Réponses probablement fausses (rapport du {generated_on}) : {counted(total, 'message')} en"
        f" {counted(len(groups), 'groupe')}.",
        f"Pour chaque groupe : remplacez « {TO_LABEL} » par l'intention qui aurait dû répondre (le sujet",
        "répondu est probablement faux ; s'il était le bon, supprimez le groupe), supprimez les lignes qui",
        "contiennent encore une donnée personnelle, puis ajoutez les lignes restantes aux exemples de cette",
        "intention dans data/nlu/.",
    ]
    comments = []
    for group in groups:
        topic, confidence = group.answered_topic
        comments.append(
            f"{group.described()} · répondu : {topic_comment(topic, confidence, topic_labels)}"
            f" · {reasons_comment(group.reasons)}"
        )
    return labelling_yaml(header, groups, comments)
