"""Administration matching, incubator choice, and the incubator finder's NLU data that feeds them."""

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.content import Content
from actions.incubators import (
    AliasIndex,
    administrations_in_message,
    build_alias_index,
    find_administrations,
    incubator_reply,
    incubators_for,
)

REPO = Path(__file__).resolve().parents[2]
NLU_FILE = REPO / "data" / "nlu" / "incubator_finder.yml"
HOLDOUT_FILE = REPO / "tests" / "nlu_holdout" / "incubator_finder.yml"


@pytest.fixture
def index(content: Content) -> AliasIndex:
    return build_alias_index(content.administrations)


@pytest.fixture(scope="module")
def nlu() -> TrainingData:
    return load_data(str(NLU_FILE))


@pytest.mark.parametrize(
    ("value", "administration"),
    [
        ("Justice", "justice"),
        ("ministère de la Justice", "justice"),
        ("la Chancellerie", "justice"),
        ("MTE", "ecologie"),
        ("ministere de la transition ecologique", "ecologie"),
        ("DGFiP", "dgfip"),
        ("Finances publiques", "dgfip"),
        ("Armées", "armees"),
        ("le KUBE", "armees"),
        ("fabnumdef", "armees"),
        ("France Travail", "france_travail"),
        ("Pôle emploi", "france_travail"),
        ("ANCT", "anct"),
        ("Culture", "culture"),
        ("MASA", "agriculture"),
        ("place Beauvau", "interieur"),
        ("DNE", "education_nationale"),
        ("Quai d'Orsay", "meae"),
        ("ministères sociaux", "ministeres_sociaux"),
        ("Bercy", "bercy"),
        ("IGN", "ign"),
        ("ADEME", "ademe"),
        ("ANSSI", "anssi"),
        ("DINUM", "dinum"),
        ("Cerema", "cerema"),
        ("GIP de l'inclusion", "gip_inclusion"),
        # Issue 11: where people's own words belong.
        ("cohésion des territoires", "ecologie"),
        ("Agence nationale de la cohésion des territoires", "anct"),
        ("inclusion numérique", "anct"),
        ("inclusion", "gip_inclusion"),
        ("ALLiaNCE", "alliance"),
        ("Logement", "ecologie"),
        ("DGALN", "ecologie"),
        ("la DREAL Occitanie", "ecologie"),
        ("DDT(M)", "ecologie"),
        ("DDTM du Var", "ecologie"),
        ("Transports", "ecologie"),
        ("ministère de l'Éducation", "education_nationale"),
        ("académie de Lyon", "education_nationale"),
        ("MinArm", "armees"),
        ("DGA", "armees"),
        ("police", "interieur"),
        ("Comptes publics", "dgfip"),
        ("ARS", "ministeres_sociaux"),
        ("SocialGouv", "ministeres_sociaux"),
        ("mairie", "anct"),
        ("commune", "anct"),
        ("région", "anct"),
        ("PJJ", "justice"),
        ("tribunal", "justice"),
        # The longest alias wins: ADEME's incubator, not the ministry of the ecological transition.
        ("Accélérateur de la Transition Écologique", "ademe"),
    ],
)
def test_find_administration(index: AliasIndex, value: str, administration: str) -> None:
    assert find_administrations(value, index) == [administration]


@pytest.mark.parametrize(
    "value",
    ["ministère des Sports", "", "la Justice ou la Culture ?", "justicier", "je cherche un incubateur"],
)
def test_unknown_or_ambiguous_administrations_name_no_single_one(index: AliasIndex, value: str) -> None:
    assert len(find_administrations(value, index)) != 1


def test_every_canonical_id_resolves_to_itself(content: Content, index: AliasIndex) -> None:
    # The NLU's synonyms turn entity values into these ids: they must resolve unchanged.
    assert all(find_administrations(a.id, index) == [a.id] for a in content.administrations)


def test_entities_and_text_are_both_read(index: AliasIndex) -> None:
    assert administrations_in_message(["justice"], "la Chancellerie", index) == ["justice"]
    assert administrations_in_message([], "quel incubateur pour la DGFiP ?", index) == ["dgfip"]
    assert administrations_in_message(["Culture"], "Culture et Justice", index) == ["culture", "justice"]


def test_incubators_for_prefers_the_listed_incubators(content: Content) -> None:
    assert [i.id for i in incubators_for(content, "dinum")] == ["dinum", "dinum_produits_interministeriels"]
    assert [i.id for i in incubators_for(content, "alliance")] == ["alliance"]
    assert [i.id for i in incubators_for(content, "education_nationale")] == ["MEN"]
    assert [i.id for i in incubators_for(content, "bercy")] == ["bercy"]


def test_reply_for_one_listed_incubator(content: Content) -> None:
    reply = incubator_reply(content, ["justice"], named=True)
    assert reply.response == "utter_incubator_found"
    assert reply.administration == "justice"
    assert reply.variables == {
        "incubator": "l'Incubateur de la Justice",
        "administration": "le ministère de la Justice",
        "page": "https://beta.gouv.fr/incubateurs/justice.html",
    }


def test_reply_for_several_incubators_lists_them(content: Content) -> None:
    reply = incubator_reply(content, ["dinum"], named=True)
    assert reply.response == "utter_incubators_found"
    assert reply.variables["administration"] == "la DINUM"
    assert reply.variables["incubators"].splitlines() == [
        "- [Le département Accompagnement de services numériques (ex-ISN)](https://beta.gouv.fr/incubateurs/dinum.html)",
        "- [L'Opérateur de produits interministériels]"
        "(https://beta.gouv.fr/incubateurs/dinum_produits_interministeriels.html)",
    ]


def test_reply_for_a_hidden_incubator_explains_why(content: Content) -> None:
    reply = incubator_reply(content, ["ministeres_sociaux"], named=True)
    assert reply.response == "utter_incubator_not_listed"
    # Hidden incubators lost their beta.gouv.fr page (incubateurs/sgmas.html is dead): its own site instead.
    assert reply.variables["page"] == "https://fabrique.social.gouv.fr/"
    assert "9 février 2026" in reply.variables["note"]
    assert all("sgmas.html" not in incubator.page for incubator in content.incubators)


@pytest.mark.parametrize(
    ("found", "named", "response"),
    [
        (["justice", "culture"], True, "utter_incubator_ambiguous"),
        ([], True, "utter_incubator_unknown"),
        ([], False, "utter_incubator_list"),
    ],
)
def test_no_single_administration_never_gives_an_incubator(
    content: Content, found: list[str], named: bool, response: str
) -> None:
    reply = incubator_reply(content, found, named)
    assert (reply.response, reply.administration) == (response, None)
    assert reply.variables["page"] == "https://beta.gouv.fr/incubateurs/"


def test_the_list_reply_counts_the_listed_incubators(content: Content) -> None:
    reply = incubator_reply(content, [], named=False)
    assert reply.variables["count"] == sum(i.displayed for i in content.incubators) == 19


def test_nlu_synonyms_map_to_the_administration_they_name(
    content: Content, nlu: TrainingData, index: AliasIndex
) -> None:
    ids = {a.id for a in content.administrations}
    assert set(nlu.entity_synonyms.values()) <= ids
    for alias, canonical in nlu.entity_synonyms.items():
        assert find_administrations(alias, index) == [canonical], alias


def test_nlu_lookup_entries_name_an_administration(nlu: TrainingData, index: AliasIndex) -> None:
    (table,) = nlu.lookup_tables
    assert table["name"] == "administration"
    assert [entry for entry in table["elements"] if len(find_administrations(entry, index)) != 1] == []


@pytest.mark.parametrize("path", [NLU_FILE, HOLDOUT_FILE], ids=["training", "holdout"])
def test_annotated_administrations_are_known(path: Path, index: AliasIndex) -> None:
    data = load_data(str(path))
    unknown = [
        entity["value"]
        for example in data.training_examples
        for entity in example.get("entities") or []
        if len(find_administrations(str(entity["value"]), index)) != 1
    ]
    assert unknown == []


def test_nlu_has_enough_examples_and_a_separate_holdout(nlu: TrainingData) -> None:
    holdout = load_data(str(HOLDOUT_FILE))
    counts = {
        intent: len([e for e in nlu.intent_examples if e.get("intent") == intent]) for intent in nlu.intents
    }
    assert counts["ask_incubator_list"] >= 35
    assert counts["inform_administration"] >= 25
    holdout_texts = [e.get("text") for e in holdout.intent_examples]
    assert len(holdout_texts) == 20
    assert not set(holdout_texts) & {e.get("text") for e in nlu.intent_examples}
