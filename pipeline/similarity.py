"""Character n-gram similarity of a message to the training examples of each intent.

Pure logic shared by the out-of-domain guard (pipeline/out_of_domain.py) and its calibration
(scripts/calibrate_out_of_domain.py): no Rasa import here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from actions.text import STOPWORDS, fold, words

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
# Letters two words must share at the start to count as the same word for the vocabulary check.
STEM = 5
_SPACES = re.compile(r"\s+")
# A message that is only an e-mail address, a web address, a phone number or other digits and symbols asks
# nothing a topic answers, whatever the classifier thinks of it.
_NOISE = re.compile(
    r"^\s*(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail address
    r"|(?:https?://|www\.)\S+"  # web address
    r"|[\d\s()+*/.,:;=%€$-]+"  # numbers, phone numbers, arithmetic
    r")\s*$"
)


def is_noise(text: str) -> bool:
    """True for a bare e-mail address, web address, phone number or number."""
    return bool(_NOISE.match(text))


def normalize(text: str) -> str:
    """Folded (actions/text.py), typographic apostrophes made straight, single spaces:
    "Où est l’Incubateur ?" → "ou est l'incubateur ?"."""
    return _SPACES.sub(" ", fold(text.replace("’", "'"))).strip()


class ExampleIndex:
    """TF-IDF vectors (character 2- to 4-grams within words) of every training example, by intent."""

    def __init__(self, examples: Mapping[str, Iterable[str]]) -> None:
        self.intents: list[str] = []
        texts: list[str] = []
        for intent, intent_examples in sorted(examples.items()):
            for text in intent_examples:
                self.intents.append(intent)
                texts.append(normalize(text))
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform(texts)
        self._labels = np.array(self.intents)

    def similarities(self, text: str) -> np.ndarray:
        """Cosine similarity of `text` to every example (rows are L2-normalised by TfidfVectorizer)."""
        vector = self.vectorizer.transform([normalize(text)])
        return (self.matrix @ vector.T).toarray().ravel()

    def best_by_intent(self, scores: np.ndarray, exclude: int | None = None) -> dict[str, float]:
        """Highest similarity per intent; `exclude` leaves one example out (calibration)."""
        if exclude is not None:
            scores = scores.copy()
            scores[exclude] = -1.0
        best: dict[str, float] = {}
        for intent in set(self.intents):
            best[intent] = float(scores[self._labels == intent].max(initial=-1.0))
        return best


class Vocabulary:
    """The words of the examples of every intent but out-of-scope: the words the assistant has an answer for.

    A word of six letters or more is also known when a known word shares its first five letters
    (« facturer », « factures »; a typo near the end).
    """

    def __init__(self, examples: Mapping[str, Iterable[str]]) -> None:
        self.words = frozenset(
            word for intent, texts in examples.items() if intent != OUT_OF_SCOPE_INTENT
            for text in texts for word in words(text)
        )
        self._stems = frozenset(word[:STEM] for word in self.words if len(word) >= STEM)

    def knows(self, word: str) -> bool:
        return word in self.words or (len(word) > STEM and word[:STEM] in self._stems)

    def unknown_share(self, text: str) -> float:
        """The share of the message's content words (no stop words, numbers or 1–2 letter words) that no
        example uses: « les phases de la digestion » 0.5, « le rôle du Sénat » 0.5, « comment poser des
        congés ? » 0."""
        content = [word for word in words(text)
                   if word not in STOPWORDS and len(word) > 2 and not word.isdigit()]
        if not content:
            return 0.0
        return sum(not self.knows(word) for word in content) / len(content)




def guard_verdict(
    intent: str,
    best: Mapping[str, float],
    threshold: float,
    margin: float,
    unknown_share: float | None = None,
    max_unknown_share: float = 1.0,
) -> str | None:
    """The intent that should replace the classifier's `intent`, or None to keep it.

    `best` is the highest similarity of the message to each intent's examples. A message closer to the
    out-of-scope examples than to those of its intent (by more than `margin`) is out of scope; one that
    resembles none of its intent's examples (below `threshold`) is a fallback. So is one whose words are,
    for `max_unknown_share` of them or more, words no example uses (`unknown_share`, None when this intent
    is not checked): « les phases de la digestion » borrows one word of a topic and brings its own subject.
    """
    own = best.get(intent, 0.0)
    if best.get(OUT_OF_SCOPE_INTENT, 0.0) > own + margin:
        return OUT_OF_SCOPE_INTENT
    if unknown_share is not None and unknown_share >= max_unknown_share:
        return OUT_OF_SCOPE_INTENT
    if own < threshold:
        return FALLBACK_INTENT
    return None

