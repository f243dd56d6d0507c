"""Every response the actions can dispatch exists in domain.yml, with only the variables they fill."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.action_search_fallback import ActionSearchFallback
from actions.action_topic_links import ActionTopicLinks
from actions.content import Content
from actions.followups import answer_followup
from actions.incubators import incubator_reply
from tests.unit.trackers import Sent, make_tracker

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def responses() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))["responses"]


def dispatched(content: Content, run_action: Any) -> Sent:
    """Every response name the actions can send, with the variables they pass to it."""
    sent: Sent = []
    topics = [None, *content.topics]
    for intent in [*content.followups, "ask_more_details"]:
        for topic in topics:
            answer = answer_followup(content, intent, topic)
            sent.append({"response": answer.response if answer else "utter_ask_which_topic"})
    ids = [a.id for a in content.administrations]
    for found, named in [*(([i], True) for i in ids), (ids[:2], True), ([], True), ([], False)]:
        reply = incubator_reply(content, found, named)
        sent.append({"response": reply.response, **reply.variables})
    for action, tracker in [
        (ActionTopicLinks(), make_tracker("ask_link", "un lien ?", slots={"topic": "ask_funding"})),
        (ActionTopicLinks(), make_tracker("ask_link", "un lien ?")),
        (ActionSearchFallback(), make_tracker("nlu_fallback", "certif intra")),
        (ActionSearchFallback(), make_tracker("nlu_fallback", "météo")),
    ]:
        sent.extend(run_action(action, tracker)[1])
    return sent


def test_every_dispatched_response_is_in_the_domain_with_its_variables(
    content: Content, run_action: Any, responses: dict[str, list[dict[str, Any]]]
) -> None:
    problems = set()
    for message in dispatched(content, run_action):
        name = message["response"]
        if name not in responses:
            problems.add(f"{name}: missing from domain.yml")
            continue
        for variation in responses[name]:
            unfilled = set(PLACEHOLDER.findall(variation.get("text", ""))) - set(message)
            problems |= {f"{name}: {{{variable}}} is never filled" for variable in unfilled}
    assert sorted(problems) == []


def test_the_links_message_carries_the_feedback_buttons(responses: dict[str, list[dict[str, Any]]]) -> None:
    for variation in responses["utter_topic_links"]:
        assert [b["payload"] for b in variation["buttons"]] == ["/feedback_positive", "/feedback_negative"]
