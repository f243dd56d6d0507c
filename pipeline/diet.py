"""DIETClassifier loaded without compiling its training graph, then the start-up garbage frozen.

Rasa's RasaModel.load builds the model's weights by training it on one example (`model.fit`): Keras then
traces and compiles the whole training step, which costs most of DIET's load time (26–32 s on the bench
machine) and ~440 MB, only to overwrite those weights with the trained ones. Here the weights come straight
from the checkpoint: TensorFlow restores each variable as the first prediction creates it (restore on
create), and the restore is checked to have matched every variable the prediction graph uses.

DIET is the last component of the pipeline to load: at that point, everything the server keeps for its whole
life (TensorFlow, spaCy, the model) is allocated, so `gc.freeze()` moves it out of the garbage collector's
reach. Without it, each full collection walks these millions of objects (about one second, several times an
hour under load).
"""

from __future__ import annotations

import copy
import gc
import logging
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import diet_classifier
from rasa.nlu.extractors.extractor import EntityTagSpec
from rasa.shared.nlu.constants import TEXT
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)


def freeze_startup_objects() -> None:
    """Collects once, then exempts every object alive now from later collections (they live forever)."""
    gc.collect()
    gc.freeze()
    logger.debug(f"gc.freeze(): {gc.get_freeze_count()} start-up objects no longer scanned")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class DIETClassifier(diet_classifier.DIETClassifier):
    """Rasa's DIETClassifier; only loading differs (same weights, same predictions)."""

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> DIETClassifier:
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        freeze_startup_objects()
        return component

    @classmethod
    def _load_model_class(
        cls,
        tf_model_file: str,
        model_data_example: RasaModelData,
        label_data: RasaModelData,
        entity_tag_specs: list[EntityTagSpec],
        config: dict[str, Any],
        finetune_mode: bool,
    ) -> RasaModel:
        if finetune_mode:
            # Further training needs the optimizer and the training graph: Rasa's way.
            return super()._load_model_class(
                tf_model_file, model_data_example, label_data, entity_tag_specs, config, finetune_mode
            )
        predict_data_example = RasaModelData(
            label_key=model_data_example.label_key,
            data={name: features for name, features in model_data_example.items() if TEXT in name},
        )
        model = cls.model_class()(
            data_signature=model_data_example.get_signature(),
            label_data=label_data,
            entity_tag_specs=entity_tag_specs,
            config=copy.deepcopy(config),
        )
        status = model.load_weights(tf_model_file)
        # Creates the prediction graph's variables, which the checkpoint then fills in.
        model.run_inference(predict_data_example)
        # Fails (instead of predicting with random weights) if any variable was left without its value.
        status.assert_existing_objects_matched()
        # The optimizer's state is in the checkpoint too, unused for predictions: no warning about it.
        status.expect_partial()
        return model
