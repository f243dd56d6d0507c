"""Text folding shared by the search, the administration matching and the reports."""

import re
import unicodedata

# French words too common to tell questions or topics apart, folded like the text they are compared with:
# the one list for the search (actions/search.py) and the grouping of unanswered questions (reports/).
_STOPWORD_TEXT = """
    a ai aide as au aux avec besoin bonjour c ca ce cela ces cet cette chez comme comment d dans de
    des donc du elle elles en es est et etre eu faire fait il ils j je l la le les leur leurs lui m
    ma mais me merci mes moi mon n ne ni nos notre nous on ou par pas peut peux plus pour pourquoi
    qu quand que quel quelle quelles quels question qui quoi s sa sais sans savoir se ses si son
    sont stp sur svp t ta te tes toi ton tu un une veux vos votre voudrais vous y
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents, so that "Intérieur" and "interieur" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """Split folded `text` into words; apostrophes, hyphens and punctuation separate words."""
    return _WORD.findall(fold(text))
