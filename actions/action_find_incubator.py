"""action_find_incubator: the incubator of the administration the user names, never a guessed one."""

from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import INCUBATOR_LIST_TOPIC, content_dir, content_in, get_content
from actions.dialogue import latest_intent
from actions.incubators import AliasIndex, administrations_in_message, build_alias_index, incubator_reply

ENTITY = "administration"
INFORM_INTENT = "inform_administration"


@lru_cache(maxsize=4)
def alias_index(directory: Path) -> AliasIndex:
    """The alias index of a content directory's administrations, built once."""
    return build_alias_index(content_in(directory).administrations)


class ActionFindIncubator(Action):
    def name(self) -> str:
        return "action_find_incubator"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        entity_values = [str(value) for value in tracker.get_latest_entity_values(ENTITY)]
        text = tracker.latest_message.get("text") or ""
        found = administrations_in_message(entity_values, text, alias_index(content_dir()))
        named = bool(entity_values) or latest_intent(tracker) == INFORM_INTENT
        reply = incubator_reply(get_content(), found, named)
        dispatcher.utter_message(response=reply.response, **reply.variables)
        # The slot keeps the canonical id, or is cleared when no single administration was recognised.
        return [SlotSet("topic", INCUBATOR_LIST_TOPIC), SlotSet(ENTITY, reply.administration)]
