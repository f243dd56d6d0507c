"""SpacyNLP without the pipes that nothing in the pipeline reads.

Rasa loads the French model with only its dependency parser disabled; the named-entity recogniser still runs
on every message (and the model loads it), although entities come from DIET and the regex extractor. The
tokenizer reads tokens and lemmas (tok2vec, morphologizer, attribute_ruler, lemmatizer), the featurizer the
document vector (tok2vec's output): those pipes stay.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils import spacy_utils
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.exceptions import InvalidConfigException

# Not loaded at all: Rasa's SpacyNLP disables "parser"; "senter" is disabled in the package itself.
UNUSED_PIPES = ("parser", "senter", "ner")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """Rasa's SpacyNLP loading only the pipes the tokenizer and featurizer use."""

    @staticmethod
    def load_model(spacy_model_name: str) -> SpacyModel:
        import spacy

        # The same checks as Rasa's: a model named, installed, and made for this spaCy.
        if not spacy_model_name:
            raise InvalidConfigException("SpacyNLP needs a `model` in config.yml (e.g. fr_core_news_sm).")
        try:
            language = spacy.load(spacy_model_name, exclude=list(UNUSED_PIPES))
        except OSError as error:
            message = f"spaCy model {spacy_model_name} is not installed: {error}"
            raise InvalidConfigException(message) from error
        wanted = language.meta.get("spacy_version", "")
        if not spacy.util.is_compatible_version(spacy.about.__version__, wanted):
            raise InvalidConfigException(
                f"{spacy_model_name} needs spaCy {wanted}, not {spacy.about.__version__} (requirements.in)."
            )
        return SpacyModel(model=language, model_name=spacy_model_name)
