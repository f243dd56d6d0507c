"""Text folding shared by the search and the administration matching."""

import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents, so that "Intérieur" and "interieur" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """Split folded `text` into words; apostrophes, hyphens and punctuation separate words."""
    return _WORD.findall(fold(text))
