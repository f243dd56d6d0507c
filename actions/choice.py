"""« Vouliez-vous dire A ou B ? »: when the classifier hesitated between two topics that both resemble the
message, offering exactly those two beats a keyword search.

Reads the latest message's parse: the intent ranking and the out-of-domain guard's `plausible` intents
(pipeline/out_of_domain.py). Without the guard's scores, no choice is offered (the search takes over).
"""

from collections.abc import Collection, Mapping
from typing import Any

# The second topic must have this much confidence, and be this close to the first.
MIN_SECOND_CONFIDENCE = 0.2
MAX_GAP = 0.3


def close_topics(parse: Mapping[str, Any], topics: Collection[str]) -> tuple[str, str] | None:
    """The two best-ranked topics when they are close and both plausible, else None."""
    plausible = set((parse.get("out_of_domain") or {}).get("plausible") or [])
    ranked = [entry for entry in parse.get("intent_ranking") or [] if entry.get("name") in topics]
    if len(ranked) < 2:
        return None
    first, second = ranked[0], ranked[1]
    if not {first["name"], second["name"]} <= plausible:
        return None
    if second["confidence"] < MIN_SECOND_CONFIDENCE or first["confidence"] - second["confidence"] > MAX_GAP:
        return None
    return first["name"], second["name"]
