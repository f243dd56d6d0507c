"""Which topic a follow-up question ("et ça dure combien de temps ?") is about."""

from dataclasses import dataclass

from actions.catalog import LINKS_AFTER_ANSWER, LINKS_ON_REQUEST
from actions.content import Content


@dataclass(frozen=True)
class FollowupAnswer:
    topic: str
    # True when the user wants more on the same topic: the first answer was already given.
    details: bool

    @property
    def response(self) -> str:
        return f"utter_{self.topic}_details" if self.details else f"utter_{self.topic}"

    @property
    def link_limit(self) -> int:
        return LINKS_ON_REQUEST if self.details else LINKS_AFTER_ANSWER


def answer_followup(content: Content, intent: str | None, current_topic: str | None) -> FollowupAnswer | None:
    """Resolve a follow-up intent against the current topic with the table of followups.yml.

    A follow-up intent listed there always gets an answer (its default target without a topic);
    any other intent, such as ask_more_details, asks for more on the current topic, so it needs one.
    """
    rule = content.followups.get(intent or "")
    if rule is not None:
        target = rule.after.get(current_topic, rule.default) if current_topic else rule.default
        return FollowupAnswer(target, details=target == current_topic)
    if current_topic is None:
        return None
    return FollowupAnswer(current_topic, details=True)
