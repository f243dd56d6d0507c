"""The out-of-domain guard (pipeline/): similarity, verdicts, the component on messages, and the replay
that the evaluation and the calibration use."""

from typing import Any

import pytest
from rasa.shared.nlu.training_data.message import Message

from pipeline.evaluation import Settings, accuracy, replay, wrong_answer_rate
from pipeline.out_of_domain import SCORE_KEY, OutOfDomainGuard
from pipeline.similarity import ExampleIndex, Vocabulary, guard_verdict, is_noise, normalize

EXAMPLES = {
    "ask_funding": ["qui finance une startup d'État ?", "combien coûte une startup d'État ?",
                    "le financement des produits"],
    "ask_leave": ["comment poser des congés ?", "je pars en vacances, je préviens qui ?"],
    "out_of_scope": ["combien coûte un repas à la cantine ?", "le mot de passe du wifi", "recette de crêpes"],
    "inform_administration": ["DINUM", "ministère de la Justice"],
    "thank": ["merci beaucoup", "merci pour votre aide"],
}


def test_normalize_folds_case_accents_and_spaces() -> None:
    assert normalize("  Où est  l'Incubateur ?") == "ou est l'incubateur ?"


def test_best_by_intent_finds_the_closest_examples() -> None:
    index = ExampleIndex(EXAMPLES)
    best = index.best_by_intent(index.similarities("combien coûte la cantine ?"))
    assert best["out_of_scope"] > best["ask_funding"] > best["ask_leave"]


@pytest.mark.parametrize(
    ("best", "verdict"),
    [
        ({"ask_funding": 0.6, "out_of_scope": 0.3}, None),
        ({"ask_funding": 0.4, "out_of_scope": 0.7}, "out_of_scope"),  # closer to out-of-scope examples
        ({"ask_funding": 0.1, "out_of_scope": 0.05}, "nlu_fallback"),  # resembles nothing
    ],
)
def test_guard_verdict(best: dict[str, float], verdict: str | None) -> None:
    assert guard_verdict("ask_funding", best, threshold=0.2, margin=0.0) == verdict


def guard(max_unknown_share: float = 0.5) -> OutOfDomainGuard:
    config = {**OutOfDomainGuard.get_default_config(), "threshold": 0.2, "margin": 0.0,
              "max_unknown_share": max_unknown_share}
    return OutOfDomainGuard(config, None, None, EXAMPLES)  # type: ignore[arg-type]


def classified(text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> Message:
    message = Message(data={"text": text, "entities": entities or []})
    message.set("intent", {"name": intent, "confidence": 0.9})
    ranking = [{"name": intent, "confidence": 0.9}, {"name": "ask_leave", "confidence": 0.1}]
    message.set("intent_ranking", ranking)
    return message


def test_the_canteen_is_not_a_funding_question() -> None:
    message = guard().process([classified("Combien coûte la cantine ?", "ask_funding")])[0]
    assert message.get("intent")["name"] == "out_of_scope"
    assert message.get("intent_ranking")[0]["name"] == "out_of_scope"
    assert message.get(SCORE_KEY)["intent"] == "ask_funding"


def test_a_message_like_nothing_becomes_a_fallback() -> None:
    message = guard(max_unknown_share=2.0).process([classified("zxqv blorp kwrrt", "ask_funding")])[0]
    assert message.get("intent")["name"] == "nlu_fallback"


def test_vocabulary_knows_the_words_of_every_intent_but_out_of_scope() -> None:
    vocabulary = Vocabulary(EXAMPLES)
    assert vocabulary.knows("conges") and vocabulary.knows("financements")  # « financement » + s
    assert not vocabulary.knows("cantine")  # only in an out-of-scope example
    assert vocabulary.unknown_share("comment poser des congés ?") == 0.0
    assert vocabulary.unknown_share("le financement de la digestion") == 0.5
    assert vocabulary.unknown_share("?") == 0.0


def test_a_topic_word_in_another_subject_is_out_of_scope() -> None:
    message = guard().process([classified("le financement de la digestion", "ask_funding")])[0]
    assert message.get("intent")["name"] == "out_of_scope"
    assert message.get(SCORE_KEY)["unknown_share"] == 0.5


def test_small_talk_keeps_its_free_words() -> None:
    message = guard().process([classified("merci énormément", "thank")])[0]
    assert message.get("intent")["name"] == "thank"
    assert message.get(SCORE_KEY)["unknown_share"] is None


def test_a_real_funding_question_is_kept_and_scored() -> None:
    message = guard().process([classified("qui finance une startup d'Etat", "ask_funding")])[0]
    assert message.get("intent")["name"] == "ask_funding"
    assert message.get(SCORE_KEY)["verdict"] is None
    assert "ask_funding" in message.get(SCORE_KEY)["plausible"]


def test_payloads_and_named_administrations_pass() -> None:
    payload = guard().process([classified("/ask_funding", "ask_funding")])[0]
    assert payload.get("intent")["name"] == "ask_funding"
    entity = {"entity": "administration", "value": "dreal", "start": 0, "end": 5}
    named = guard().process([classified("DREAL", "inform_administration", [entity])])[0]
    assert named.get("intent")["name"] == "inform_administration"


def parse(ranking: list[tuple[str, float]], similarity: float, out_of_scope: float) -> dict[str, Any]:
    return {
        "intent_ranking": [{"name": name, "confidence": confidence} for name, confidence in ranking],
        "entities": [],
        "out_of_domain": {"intent": ranking[0][0], "similarity": similarity,
                          "out_of_scope_similarity": out_of_scope},
    }


def test_replay_applies_each_rule() -> None:
    settings = Settings(fallback_threshold=0.3, ambiguity_threshold=0.05, guard_threshold=0.2,
                        guard_margin=0.0)
    assert replay(parse([("ask_funding", 0.9), ("ask_leave", 0.1)], 0.6, 0.3), settings) == "ask_funding"
    assert replay(parse([("ask_funding", 0.2), ("ask_leave", 0.1)], 0.6, 0.3), settings) == "nlu_fallback"
    assert replay(parse([("ask_funding", 0.45), ("ask_leave", 0.43)], 0.6, 0.3), settings) == "nlu_fallback"
    assert replay(parse([("ask_funding", 0.9), ("ask_leave", 0.1)], 0.4, 0.7), settings) == "out_of_scope"
    assert replay(parse([("ask_funding", 0.9), ("ask_leave", 0.1)], 0.1, 0.0), settings) == "nlu_fallback"
    unknown = parse([("ask_funding", 0.9), ("ask_leave", 0.1)], 0.6, 0.3)
    unknown["out_of_domain"]["unknown_share"] = 0.5
    assert replay(unknown, settings) == "ask_funding"
    assert replay(unknown, Settings(0.3, 0.05, 0.2, 0.0, max_unknown_share=0.5)) == "out_of_scope"


def test_accuracy_counts_any_abstention_right_for_out_of_scope() -> None:
    assert accuracy(["out_of_scope", "ask_leave"], ["nlu_fallback", "ask_funding"]) == 0.5


def test_wrong_answer_rate_counts_topics_only() -> None:
    predicted = ["ask_funding", "nlu_fallback", "greet", "out_of_scope"]
    assert wrong_answer_rate(predicted, {"ask_funding"}) == 0.25


@pytest.mark.parametrize("text", ["lea.petit@ext.beta.gouv.fr", "06 12 34 56 78", "+33 1 45 67 89 10",
                                  "http://example.com", "42", "3 * 4"])
def test_bare_addresses_and_numbers_are_out_of_scope(text: str) -> None:
    assert is_noise(text)
    message = guard().process([classified(text, "feedback_positive")])[0]
    assert message.get("intent")["name"] == "out_of_scope"


@pytest.mark.parametrize("text", ["ok", "mon mail est a@b.fr, il ne marche pas", "1er janvier", ""])
def test_sentences_are_not_noise(text: str) -> None:
    assert not is_noise(text)
