"""OutOfDomainGuard: turns a classifier's guess into an abstention when the message looks like none of
the training examples of the guessed intent, or when most of its words are words no example uses.

DIET always picks one of the known intents, often with high confidence, even for "Combien coûte la
cantine ?". This component runs after the classifiers and compares the message, by character n-grams,
with the examples of the predicted intent and with the out-of-scope examples (see pipeline/similarity.py).
Thresholds come from the calibration curve (scripts/calibrate_out_of_domain.py, README).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from pipeline.similarity import (
    FALLBACK_INTENT,
    OUT_OF_SCOPE_INTENT,
    ExampleIndex,
    Vocabulary,
    guard_verdict,
    is_noise,
)

logger = logging.getLogger(__name__)

EXAMPLES_FILE = "examples.json"
# Written on each parsed message so that the evaluation can draw its curve.
SCORE_KEY = "out_of_domain"
# How many of the classifier's ranked intents are checked for the « Vouliez-vous dire A ou B ? » choice.
RANKED_CHECKED = 3


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class OutOfDomainGuard(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Below this similarity to its intent's closest example, a prediction becomes a fallback.
            "threshold": 0.5,
            # A message this much closer to an out-of-scope example than to its intent's is out of scope.
            "margin": 0.0,
            # A message with at least this share of words that no example uses is out of scope.
            "max_unknown_share": 1.0,
            # Small talk and requests about the previous answer: their words are free (« au plaisir »,
            # « t'aurais un lien ? »), the vocabulary check leaves them alone.
            "vocabulary_exempt_intents": [
                "greet", "goodbye", "thank", "feedback_positive", "feedback_negative", "bot_challenge",
                "ask_help", "ask_link", "ask_more_details",
            ],
            # Intents left as predicted, whatever the message.
            "unguarded_intents": ["out_of_scope", FALLBACK_INTENT],
            # Intents left as predicted when the message names an entity: a recognised administration
            # name is the incubator finder's business, however short ("DREAL").
            "entity_intents": ["inform_administration", "ask_incubator_list"],
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        examples: dict[str, list[str]] | None = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self._index = ExampleIndex(examples) if examples else None
        self._vocabulary = Vocabulary(examples) if examples else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OutOfDomainGuard:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples: dict[str, list[str]] = {}
        for message in training_data.intent_examples:
            examples.setdefault(message.get(INTENT), []).append(message.get(TEXT))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / EXAMPLES_FILE).write_text(json.dumps(examples, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OutOfDomainGuard:
        with model_storage.read_from(resource) as directory:
            examples = json.loads((directory / EXAMPLES_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, examples)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._guard(message)
        return messages

    def _guard(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        intent = message.get(INTENT) or {}
        name = intent.get("name")
        # Button payloads ("/ask_funding") are not free text.
        if self._index is None or self._vocabulary is None or not name or text.startswith("/"):
            return
        best = self._index.best_by_intent(self._index.similarities(text))
        unknown_share = self._vocabulary.unknown_share(text)

        def verdict_for(intent: str) -> str | None:
            checked = intent not in self.config["vocabulary_exempt_intents"]
            return guard_verdict(intent, best, self.config["threshold"], self.config["margin"],
                                 unknown_share if checked else None, self.config["max_unknown_share"])

        ranked = [entry["name"] for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get("name")]
        # The classifier's next guesses that would pass the guard: the fallback may offer them as choices.
        plausible = [
            candidate for candidate in ranked[:RANKED_CHECKED]
            if candidate in best and verdict_for(candidate) is None
        ]
        verdict = None
        exempt = name in self.config["unguarded_intents"] or (
            name in self.config["entity_intents"] and message.get(ENTITIES)
        )
        if not exempt:
            verdict = OUT_OF_SCOPE_INTENT if is_noise(text) else verdict_for(name)
        # The classifier's own choice, even when the fallback classifier overrode it: the evaluation replays
        # the guard at other thresholds from these scores.
        classified = next((candidate for candidate in ranked if candidate != FALLBACK_INTENT), name)
        score = {
            "intent": classified,
            "similarity": round(best.get(classified, 0.0), 4),
            "out_of_scope_similarity": round(best.get(OUT_OF_SCOPE_INTENT, 0.0), 4),
            # None when the classified intent is exempt from the vocabulary check.
            "unknown_share": (None if classified in self.config["vocabulary_exempt_intents"]
                              else round(unknown_share, 4)),
            "plausible": plausible,
            "verdict": verdict,
        }
        message.set(SCORE_KEY, score, add_to_output=True)
        if verdict is None:
            return
        logger.debug("Out-of-domain guard: %r predicted %s, now %s (%s)", text, name, verdict, score)
        replacement = {"name": verdict, "confidence": intent.get("confidence", 0.0)}
        ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get("name") != verdict]
        message.set(INTENT, replacement, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [replacement, *ranking], add_to_output=True)
