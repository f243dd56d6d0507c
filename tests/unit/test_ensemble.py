"""The linear classifier beside DIET (pipeline/linear.py) and the component that averages them
(pipeline/ensemble.py)."""

from rasa.shared.nlu.training_data.message import Message

from pipeline.ensemble import EnsembleClassifier
from pipeline.linear import combine, probabilities, train_model

EXAMPLES = [
    ("comment poser des congés ?", "ask_leave"),
    ("je pars en vacances, je préviens qui ?", "ask_leave"),
    ("j'ai droit à des RTT ?", "ask_leave"),
    ("comment envoyer ma facture ?", "ask_invoicing"),
    ("je facture mes jours comment ?", "ask_invoicing"),
    ("déclarer mes jours de prestation", "ask_invoicing"),
    ("recette de crêpes", "out_of_scope"),
    ("le mot de passe du wifi", "out_of_scope"),
    ("la météo demain", "out_of_scope"),
]


def trained() -> EnsembleClassifier:
    model = train_model([text for text, _ in EXAMPLES], [intent for _, intent in EXAMPLES], 10.0)
    config = {**EnsembleClassifier.get_default_config(), "diet_weight": 0.5}
    return EnsembleClassifier(config, None, None, model)  # type: ignore[arg-type]


def test_the_linear_model_reads_typos_and_missing_accents() -> None:
    model = train_model([text for text, _ in EXAMPLES], [intent for _, intent in EXAMPLES], 10.0)
    scores = probabilities(model, "cmt je pose mes conges")
    assert max(scores, key=scores.__getitem__) == "ask_leave"
    assert abs(sum(scores.values()) - 1.0) < 1e-6


def test_combine_averages_and_counts_a_missing_intent_as_zero() -> None:
    ranking = combine({"a": 0.8, "b": 0.2}, {"b": 0.6, "c": 0.4}, first_weight=0.5, length=2)
    assert ranking == [{"name": "a", "confidence": 0.4}, {"name": "b", "confidence": 0.4}]
    weighted = combine({"a": 1.0}, {"b": 1.0}, first_weight=0.75, length=5)
    assert weighted[0] == {"name": "a", "confidence": 0.75}


def test_a_confident_diet_mistake_loses_its_certainty() -> None:
    """DIET sure that a leave question is about invoicing: the average no longer is, so the fallback
    threshold that follows can abstain or the right topic wins."""
    message = Message(data={"text": "je pars en vacances en août, je préviens qui ?"})
    message.set("intent", {"name": "ask_invoicing", "confidence": 0.9})
    message.set("intent_ranking", [{"name": "ask_invoicing", "confidence": 0.9},
                                   {"name": "ask_leave", "confidence": 0.1}])
    trained().process([message])
    ranking = message.get("intent_ranking")
    assert message.get("intent") == ranking[0]
    assert ranking[0]["confidence"] < 0.9
    assert {entry["name"] for entry in ranking} == {"ask_leave", "ask_invoicing", "out_of_scope"}


def test_payloads_keep_their_intent() -> None:
    message = Message(data={"text": "/ask_leave"})
    message.set("intent", {"name": "ask_leave", "confidence": 1.0})
    message.set("intent_ranking", [{"name": "ask_leave", "confidence": 1.0}])
    trained().process([message])
    assert message.get("intent") == {"name": "ask_leave", "confidence": 1.0}
