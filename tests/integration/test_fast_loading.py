"""Bienvenue's spaCy and DIET components (pipeline/) predict exactly what Rasa's own loading predicts.

The trained model is loaded twice in this process: once as configured, once with the two components' loading
put back to Rasa's (spaCy with its named-entity recogniser, DIET built by a one-example training step). Every
held-out example must get the same intent, the same entities and the same confidence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from rasa.core.agent import Agent
from rasa.nlu.classifiers import diet_classifier
from rasa.nlu.utils import spacy_utils
from rasa.shared.nlu.training_data.loading import load_data

from pipeline import diet, spacy_nlp
from tests import servers

HOLDOUT = servers.REPO / "tests" / "nlu_holdout"
CONFIDENCE_TOLERANCE = 1e-4


def holdout_texts() -> list[str]:
    return [example.get("text") for example in load_data(str(HOLDOUT), language="fr").intent_examples]


def parse_all(agent: Agent, texts: list[str]) -> list[dict]:
    async def run() -> list[dict]:
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(run())


def spacy_pipes(agent: Agent) -> list[str]:
    for node in agent.processor.graph_runner._instantiated_nodes.values():  # type: ignore[attr-defined]
        component = node._component
        if isinstance(component, spacy_utils.SpacyNLP):
            return component.provide().model.pipe_names
    raise AssertionError("no SpacyNLP in the model")


@pytest.fixture(scope="module")
def parses() -> Iterator[dict[str, tuple[list[dict], list[str]]]]:
    model = str(servers.latest_model())
    texts = holdout_texts()
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spacy_nlp.SpacyNLP, "load_model", staticmethod(spacy_utils.SpacyNLP.load_model))
        patch.setattr(
            diet.DIETClassifier,
            "_load_model_class",
            classmethod(diet_classifier.DIETClassifier._load_model_class.__func__),  # type: ignore[attr-defined]
        )
        stock = Agent.load(model)
        results["rasa"] = (parse_all(stock, texts), spacy_pipes(stock))
        del stock
    fast = Agent.load(model)
    results["bienvenue"] = (parse_all(fast, texts), spacy_pipes(fast))
    yield results


def test_the_model_uses_bienvenues_components_and_spacy_runs_no_ner(parses: dict) -> None:
    assert "ner" in parses["rasa"][1]
    assert "ner" not in parses["bienvenue"][1]
    assert {"tok2vec", "lemmatizer"} <= set(parses["bienvenue"][1])


def test_same_intents_entities_and_confidences_on_the_held_out_examples(parses: dict) -> None:
    rasa, bienvenue = parses["rasa"][0], parses["bienvenue"][0]
    assert len(rasa) == len(bienvenue) > 100
    for expected, got in zip(rasa, bienvenue, strict=True):
        assert got["intent"]["name"] == expected["intent"]["name"], got["text"]
        assert got["intent"]["confidence"] == pytest.approx(
            expected["intent"]["confidence"], abs=CONFIDENCE_TOLERANCE
        )
        assert [(e["entity"], e["value"]) for e in got["entities"]] == [
            (e["entity"], e["value"]) for e in expected["entities"]
        ], got["text"]
        ranking = [(entry["name"], entry["confidence"]) for entry in expected.get("intent_ranking", [])]
        assert [entry["name"] for entry in got.get("intent_ranking", [])] == [name for name, _ in ranking]
