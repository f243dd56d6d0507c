"""Each custom action on a tracker: the exact events it returns and the responses it dispatches."""

from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet

from actions.action_answer_followup import ActionAnswerFollowup
from actions.action_find_incubator import ActionFindIncubator
from actions.action_forget_topic import ActionForgetTopic
from actions.action_search_fallback import ActionSearchFallback
from actions.action_topic_links import ActionTopicLinks
from actions.catalog import format_links, pages_for_topic
from actions.content import Content
from tests.unit.trackers import administration_entity, make_tracker

Run = Callable[[Action, Tracker], tuple[list[dict[str, Any]], list[dict[str, Any]]]]


def links(content: Content, topic: str, limit: int) -> dict[str, Any]:
    return {"response": "utter_topic_links", "links": format_links(pages_for_topic(content, topic, limit))}


def test_action_names() -> None:
    names = [
        a.name()
        for a in (ActionTopicLinks(), ActionAnswerFollowup(), ActionFindIncubator(), ActionSearchFallback())
    ]
    assert names == [
        "action_topic_links",
        "action_answer_followup",
        "action_find_incubator",
        "action_search_fallback",
    ]


# action_topic_links


def test_topic_links_after_an_answer_sends_two_links(run_action: Run, content: Content) -> None:
    tracker = make_tracker(
        "ask_what_is_intrapreneur", "c'est quoi un intra ?", slots={"topic": "ask_what_is_intrapreneur"}
    )
    events, sent = run_action(ActionTopicLinks(), tracker)
    assert events == []
    assert sent == [links(content, "ask_what_is_intrapreneur", 2)]
    assert sent[0]["links"].count("\n- [") == 1


def test_topic_links_on_request_sends_up_to_three_links(run_action: Run, content: Content) -> None:
    tracker = make_tracker("ask_link", "un lien ?", slots={"topic": "ask_join_beta"})
    events, sent = run_action(ActionTopicLinks(), tracker)
    assert events == []
    assert sent == [links(content, "ask_join_beta", 3)]
    assert sent[0]["links"].count("\n- [") == 2


@pytest.mark.parametrize("topic", [None, "not_a_topic"])
def test_topic_links_without_a_topic_asks_which_one(run_action: Run, topic: str | None) -> None:
    events, sent = run_action(
        ActionTopicLinks(), make_tracker("ask_link", "un lien ?", slots={"topic": topic})
    )
    assert (events, sent) == ([], [{"response": "utter_ask_which_topic"}])


# action_answer_followup


def test_followup_answers_the_target_topic_and_sets_it(run_action: Run, content: Content) -> None:
    tracker = make_tracker(
        "followup_become", "et comment on en devient un ?", slots={"topic": "ask_what_is_intrapreneur"}
    )
    events, sent = run_action(ActionAnswerFollowup(), tracker)
    assert events == [SlotSet("topic", "ask_become_intrapreneur")]
    assert sent == [
        {"response": "utter_ask_become_intrapreneur"},
        links(content, "ask_become_intrapreneur", 2),
    ]


def test_followup_without_a_topic_uses_the_default_target(run_action: Run, content: Content) -> None:
    events, sent = run_action(
        ActionAnswerFollowup(), make_tracker("followup_duration", "ça dure combien de temps ?")
    )
    assert events == [SlotSet("topic", "ask_startup_phases")]
    assert sent == [{"response": "utter_ask_startup_phases"}, links(content, "ask_startup_phases", 2)]


def test_more_details_gives_the_details_and_more_links(run_action: Run, content: Content) -> None:
    tracker = make_tracker("ask_more_details", "plus de détails", slots={"topic": "ask_funding"})
    events, sent = run_action(ActionAnswerFollowup(), tracker)
    assert events == [SlotSet("topic", "ask_funding")]
    assert sent == [{"response": "utter_ask_funding_details"}, links(content, "ask_funding", 3)]


def test_more_details_without_a_topic_asks_which_one(run_action: Run) -> None:
    events, sent = run_action(ActionAnswerFollowup(), make_tracker("ask_more_details", "plus de détails"))
    assert (events, sent) == ([], [{"response": "utter_ask_which_topic"}])


# action_find_incubator


def test_find_incubator_from_the_entity(run_action: Run) -> None:
    tracker = make_tracker("inform_administration", "la Justice", [administration_entity("Justice")])
    events, sent = run_action(ActionFindIncubator(), tracker)
    assert events == [SlotSet("topic", "ask_incubator_list"), SlotSet("administration", "justice")]
    assert sent == [
        {
            "response": "utter_incubator_found",
            "incubator": "l'Incubateur de la Justice",
            "administration": "le ministère de la Justice",
            "page": "https://beta.gouv.fr/incubateurs/justice.html",
        }
    ]


def test_find_incubator_from_the_text_when_the_nlu_missed_the_entity(run_action: Run) -> None:
    tracker = make_tracker("ask_incubator_list", "y a-t-il un incubateur au ministère des armees ?")
    events, sent = run_action(ActionFindIncubator(), tracker)
    assert events == [SlotSet("topic", "ask_incubator_list"), SlotSet("administration", "armees")]
    assert sent == [
        {
            "response": "utter_incubator_found",
            "incubator": "le KUBE",
            "administration": "le ministère des Armées",
            "page": "https://beta.gouv.fr/incubateurs/kube.html",
        }
    ]


def test_find_incubator_without_an_administration_gives_the_list_and_asks(
    run_action: Run, content: Content
) -> None:
    events, sent = run_action(
        ActionFindIncubator(), make_tracker("ask_incubator_list", "quels sont les incubateurs ?")
    )
    assert events == [SlotSet("topic", "ask_incubator_list"), SlotSet("administration", None)]
    assert sent == [
        {
            "response": "utter_incubator_list",
            "count": 19,
            "as_of": content.as_of,
            "page": "https://beta.gouv.fr/incubateurs/",
        }
    ]


@pytest.mark.parametrize(
    ("tracker", "response"),
    [
        (make_tracker("inform_administration", "au ministère des Sports"), "utter_incubator_unknown"),
        (
            make_tracker("ask_incubator_list", "incubateur des Sports ?", [administration_entity("Sports")]),
            "utter_incubator_unknown",
        ),
        (
            make_tracker("ask_incubator_list", "l'incubateur de la Justice ou de la Culture ?"),
            "utter_incubator_ambiguous",
        ),
    ],
    ids=["unknown-name", "unknown-entity", "two-administrations"],
)
def test_find_incubator_never_guesses(run_action: Run, tracker: Tracker, response: str) -> None:
    events, sent = run_action(ActionFindIncubator(), tracker)
    assert events == [SlotSet("topic", "ask_incubator_list"), SlotSet("administration", None)]
    assert sent == [{"response": response, "page": "https://beta.gouv.fr/incubateurs/"}]


# action_search_fallback


def test_search_fallback_suggests_topics_as_buttons(run_action: Run, content: Content) -> None:
    events, sent = run_action(ActionSearchFallback(), make_tracker("nlu_fallback", "certif intra"))
    assert events == [SlotSet("topic", None)]
    assert sent == [
        {
            "response": "utter_fallback_suggestions",
            "buttons": [
                {
                    "title": content.topics["ask_what_is_intrapreneur"].label,
                    "payload": "/ask_what_is_intrapreneur",
                }
            ],
        }
    ]


def test_search_fallback_with_nothing_found_asks_to_rephrase(run_action: Run) -> None:
    events, sent = run_action(ActionSearchFallback(), make_tracker("nlu_fallback", "météo"))
    assert (events, sent) == ([SlotSet("topic", None)], [{"response": "utter_please_rephrase"}])


def test_search_fallback_forgets_the_previous_topic(run_action: Run) -> None:
    """The message it could not answer must not look answered with the topic of the one before."""
    tracker = make_tracker("nlu_fallback", "météo", slots={"topic": "ask_funding"})
    events, _ = run_action(ActionSearchFallback(), tracker)
    assert SlotSet("topic", None) in events


# action_forget_topic


def test_forget_topic_after_the_out_of_scope_answer(run_action: Run) -> None:
    tracker = make_tracker("out_of_scope", "la cantine ?", slots={"topic": "ask_funding"})
    assert run_action(ActionForgetTopic(), tracker) == ([SlotSet("topic", None)], [])
    assert ActionForgetTopic().name() == "action_forget_topic"
