"""Follow-up questions resolved against the current topic with content/followups.yml."""

import pytest

from actions.content import Content
from actions.followups import FollowupAnswer, answer_followup


@pytest.mark.parametrize(
    ("intent", "topic", "expected"),
    [
        (
            "followup_become",
            "ask_what_is_intrapreneur",
            FollowupAnswer("ask_become_intrapreneur", details=False),
        ),
        ("followup_become", "ask_team_roles", FollowupAnswer("ask_join_beta", details=False)),
        ("followup_become", None, FollowupAnswer("ask_become_intrapreneur", details=False)),
        (
            "followup_duration",
            "ask_what_is_startup_etat",
            FollowupAnswer("ask_startup_phases", details=False),
        ),
        ("followup_duration", None, FollowupAnswer("ask_startup_phases", details=False)),
        (
            "followup_territories",
            "ask_what_is_startup_etat",
            FollowupAnswer("ask_startups_territoires", False),
        ),
        # Asked again on the topic already answered: the details, not the same answer twice.
        ("followup_become", "ask_join_beta", FollowupAnswer("ask_join_beta", details=True)),
        ("followup_duration", "ask_startup_phases", FollowupAnswer("ask_startup_phases", details=True)),
        # How long it takes to be paid, or for the site to show an edit: the details give the delays.
        ("followup_duration", "ask_invoicing", FollowupAnswer("ask_invoicing", details=True)),
        ("followup_duration", "ask_update_profile", FollowupAnswer("ask_update_profile", details=True)),
        # How long the onboarding lasts: the details walk through its week and its month.
        ("followup_duration", "ask_onboarding_call", FollowupAnswer("ask_onboarding_call", details=True)),
        ("ask_more_details", "ask_funding", FollowupAnswer("ask_funding", details=True)),
        ("ask_more_details", "ask_incubator_list", FollowupAnswer("ask_incubator_list", details=True)),
        ("ask_more_details", None, None),
    ],
)
def test_answer_followup(
    content: Content, intent: str, topic: str | None, expected: FollowupAnswer | None
) -> None:
    assert answer_followup(content, intent, topic) == expected


def test_a_first_answer_uses_the_topic_response_and_two_links() -> None:
    answer = FollowupAnswer("ask_become_intrapreneur", details=False)
    assert (answer.response, answer.link_limit) == ("utter_ask_become_intrapreneur", 2)


def test_details_use_the_details_response_and_three_links() -> None:
    answer = FollowupAnswer("ask_funding", details=True)
    assert (answer.response, answer.link_limit) == ("utter_ask_funding_details", 3)
