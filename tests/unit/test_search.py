"""BM25 search over the topics, for the NLU fallback."""

import pytest

from actions.content import Content
from actions.search import MIN_SCORE, SearchIndex, analyze, build_index, search


@pytest.fixture
def index(content: Content) -> SearchIndex:
    return build_index(content)


def test_analyze_folds_drops_stop_words_and_trims_plurals() -> None:
    assert analyze("Les Incubateurs de l'État") == ["incubateur", "etat"]


def test_certif_intra_finds_the_intrapreneur_topics_first(index: SearchIndex) -> None:
    results = search("certif intra", index)
    assert results[0][0] == "ask_what_is_intrapreneur"
    assert all(topic in {"ask_what_is_intrapreneur", "ask_become_intrapreneur"} for topic, _ in results[:2])


@pytest.mark.parametrize(
    "query", ["météo", "quel temps fera-t-il demain ?", "football ce soir", "", "aide moi"]
)
def test_unrelated_text_finds_nothing(index: SearchIndex, query: str) -> None:
    assert search(query, index) == []


def test_search_ignores_case_and_accents(index: SearchIndex) -> None:
    assert search("COLLECTIVITES", index) == search("collectivités", index)
    assert search("collectivités", index)[0][0] == "ask_startups_territoires"


def test_a_word_start_matches_longer_words(index: SearchIndex) -> None:
    assert search("intrapreneuriat", index)[0][0] == "ask_what_is_intrapreneur"


@pytest.mark.parametrize(
    ("query", "topic"),
    [
        ("combien ça coûte ?", "ask_funding"),
        ("TJM freelance", "ask_join_beta"),
        ("droit à l'erreur", "ask_values_manifesto"),
        ("tchap", "ask_tchap"),
        ("RGAA", "ask_dsfr_rgaa"),
        ("désembarquement", "ask_leaving"),
        ("harcèlement", "ask_wellbeing_support"),
        ("visio d'embarquement", "ask_onboarding_call"),
        ("webmail", "ask_email_calendar"),
        ("note de frais", "ask_travel_expenses"),
        ("sous-domaine", "ask_ops_requests"),
        ("onboarding", "ask_first_steps"),
    ],
)
def test_keywords_lead_to_their_topic(index: SearchIndex, query: str, topic: str) -> None:
    assert search(query, index)[0][0] == topic


def test_results_are_at_most_three_ranked_and_above_the_threshold(index: SearchIndex) -> None:
    results = search("incubateur intrapreneur financement communauté phases", index)
    scores = [score for _, score in results]
    assert 0 < len(results) <= 3
    assert scores == sorted(scores, reverse=True)
    assert min(scores) >= MIN_SCORE
