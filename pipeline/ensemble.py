"""EnsembleClassifier: a linear classifier trained beside DIET, whose probabilities are averaged with DIET's.

Placed right after DIET in config.yml, before the FallbackClassifier and the out-of-domain guard: they judge
the averaged ranking. The model itself is in pipeline/linear.py.
"""

from __future__ import annotations

import logging
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.pipeline import Pipeline

from pipeline.linear import combine, probabilities, train_model

logger = logging.getLogger(__name__)

MODEL_FILE = "linear.joblib"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class EnsembleClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # The share of DIET in the average (the linear model has the rest).
            "diet_weight": 0.5,
            # The logistic regression's inverse regularisation strength (scikit-learn's C).
            "regularisation": 10.0,
            # Entries kept in the intent ranking, as DIET's own ranking_length.
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Pipeline | None = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EnsembleClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = training_data.intent_examples
        model = train_model([m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples],
                            self.config["regularisation"])
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EnsembleClassifier:
        with model_storage.read_from(resource) as directory:
            model = joblib.load(directory / MODEL_FILE)
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._average(message)
        return messages

    def _average(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        # Button payloads ("/ask_funding") are set by Rasa, not classified.
        if self._model is None or not text or text.startswith("/"):
            return
        diet = {entry["name"]: entry["confidence"] for entry in message.get(INTENT_RANKING_KEY) or []}
        if not diet:
            return
        ranking = combine(diet, probabilities(self._model, text), self.config["diet_weight"],
                          self.config["ranking_length"])
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
