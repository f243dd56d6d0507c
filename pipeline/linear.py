"""A second intent classifier, as unlike DIET as possible, and how its opinion is combined with DIET's.

A logistic regression over TF-IDF word 1–2-grams and character 2–5-grams of the normalised message. It errs
differently from DIET (no embedding, no transformer, calibrated probabilities), so the average of the two
rankings is right more often than either (README, « Savoir se taire ») and less sure of itself on a message
that only one of them mistakes for a topic: the fallback thresholds that follow then abstain.

Pure logic: no Rasa import here (pipeline/ensemble.py is the component).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from pipeline.similarity import normalize


def build_model(regularisation: float) -> Pipeline:
    """Untrained: word and word-pair features (what is asked), character ones (typos, SMS spellings)."""
    features = FeatureUnion([
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                  token_pattern=r"(?u)\b\w+\b")),
        ("characters", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
    ])
    # Balanced classes: the out-of-scope and incubator examples outnumber a topic's by ten to one.
    classifier = LogisticRegression(C=regularisation, max_iter=3000, class_weight="balanced")
    return Pipeline([("features", features), ("classifier", classifier)])


def train_model(texts: Sequence[str], intents: Sequence[str], regularisation: float) -> Pipeline:
    model = build_model(regularisation)
    model.fit([normalize(text) for text in texts], list(intents))
    return model


def probabilities(model: Pipeline, text: str) -> dict[str, float]:
    """Each intent's probability for `text`."""
    row = model.predict_proba([normalize(text)])[0]
    return {str(intent): float(p) for intent, p in zip(model.classes_, row, strict=True)}


def combine(
    first: Mapping[str, float], second: Mapping[str, float], first_weight: float, length: int
) -> list[dict[str, float | str]]:
    """The weighted average of two rankings, best first, `length` entries at most.

    An intent missing from one ranking (DIET only reports its best ten) counts as 0 there.
    """
    intents = set(first) | set(second)
    scores = {
        intent: first_weight * first.get(intent, 0.0) + (1.0 - first_weight) * second.get(intent, 0.0)
        for intent in intents
    }
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:length]
    return [{"name": intent, "confidence": round(score, 6)} for intent, score in ranked]
