"""The parts of Rasa 3.6 that Bienvenue's subclasses (pipeline/, stores/) override or call, as they rely on
them: if an upgrade of Rasa changes one of them, this fails before the behaviour silently drifts."""

from __future__ import annotations

import inspect

from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.utils.tensorflow.models import RasaModel

from pipeline import diet, spacy_nlp
from stores.caching_sql import CachingSQLTrackerStore


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_diet_builds_its_model_through_load_model_class_with_these_arguments() -> None:
    assert parameters(DIETClassifier._load_model_class) == parameters(diet.DIETClassifier._load_model_class)
    assert "cls._load_model_class(" in inspect.getsource(DIETClassifier._load_model)
    # What the override skips: the one-example training step (nothing to gain if Rasa drops it).
    assert "model.fit(" in inspect.getsource(RasaModel.load)


def test_spacy_nlp_loads_its_language_through_load_model() -> None:
    assert "cls.load_model(" in inspect.getsource(SpacyNLP.create)
    assert parameters(SpacyNLP.load_model) == parameters(spacy_nlp.SpacyNLP.load_model)


def test_the_processor_reads_trackers_with_retrieve_and_writes_them_with_save() -> None:
    assert "self.tracker_store.get_or_create_tracker(" in inspect.getsource(MessageProcessor.get_tracker)
    assert "await self.retrieve(" in inspect.getsource(TrackerStore.get_or_create_tracker)
    assert "self.tracker_store.save(" in inspect.getsource(MessageProcessor.save_tracker)


def test_the_sql_store_rows_and_queries_are_the_ones_the_cache_reproduces() -> None:
    columns = [column.name for column in SQLTrackerStore.SQLEvent.__table__.columns]
    assert columns == ["id", "sender_id", "type_name", "timestamp", "intent_name", "action_name", "data"]
    assert parameters(SQLTrackerStore._event_query) == [
        "self",
        "session",
        "sender_id",
        "fetch_events_from_all_sessions",
    ]
    assert parameters(SQLTrackerStore._additional_events) == parameters(
        CachingSQLTrackerStore._additional_events
    )
    save = inspect.getsource(SQLTrackerStore.save)
    for computed in ('data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)', 'data.get("name")'):
        assert computed in save
