"""BM25 search of a free-text message over the topics, for the NLU fallback.

Each topic is one document: its label and keywords (topics.yml) plus the titles and summaries of
its pages (pages.yml). Words are folded (case, accents), French stop words dropped and plurals
trimmed; a query word of 5 letters or more also matches the words it starts or that start it,
so "certif intra" finds "certification" and "intrapreneur".
"""

import math
from collections import Counter
from dataclasses import dataclass

from actions.content import Content
from actions.text import STOPWORDS, words

# Usual BM25 parameters.
K1 = 1.5
B = 0.75
# Below this score a match rests on a single common word: better to ask the user to rephrase.
MIN_SCORE = 2.0
# Suggestions much weaker than the best one are noise.
RELATIVE_CUTOFF = 0.4
MIN_PREFIX = 5



def analyze(text: str) -> list[str]:
    """Search terms of `text`: folded words without stop words, plural -s/-x trimmed."""
    terms = []
    for word in words(text):
        if word in STOPWORDS:
            continue
        if len(word) > 3 and word[-1] in "sx":
            word = word[:-1]
        terms.append(word)
    return terms


@dataclass(frozen=True)
class SearchIndex:
    term_counts: dict[str, Counter[str]]
    lengths: dict[str, int]
    average_length: float
    document_frequency: Counter[str]

    @property
    def size(self) -> int:
        return len(self.term_counts)


def build_index(content: Content) -> SearchIndex:
    texts = {topic.id: [topic.label, topic.keywords] for topic in content.topics.values()}
    for page in content.pages:
        for topic in page.topics:
            texts[topic] += [page.title, page.summary]
    term_counts = {topic: Counter(analyze(" ".join(parts))) for topic, parts in texts.items()}
    lengths = {topic: sum(counts.values()) for topic, counts in term_counts.items()}
    document_frequency: Counter[str] = Counter()
    for counts in term_counts.values():
        document_frequency.update(counts.keys())
    return SearchIndex(term_counts, lengths, sum(lengths.values()) / len(lengths), document_frequency)


def _matching_terms(query_term: str, index: SearchIndex) -> list[str]:
    if len(query_term) < MIN_PREFIX:
        return [query_term] if query_term in index.document_frequency else []
    return [
        term
        for term in index.document_frequency
        if term == query_term
        or (len(term) >= MIN_PREFIX and (term.startswith(query_term) or query_term.startswith(term)))
    ]


def _term_score(term: str, topic: str, index: SearchIndex) -> float:
    frequency = index.term_counts[topic][term]
    if not frequency:
        return 0.0
    documents = index.document_frequency[term]
    idf = math.log(1 + (index.size - documents + 0.5) / (documents + 0.5))
    norm = K1 * (1 - B + B * index.lengths[topic] / index.average_length)
    return idf * frequency * (K1 + 1) / (frequency + norm)


def score_topics(query: str, index: SearchIndex) -> dict[str, float]:
    """BM25 score of every topic for `query`; each query word counts once, by its best matching term."""
    matches = [_matching_terms(term, index) for term in dict.fromkeys(analyze(query))]
    return {
        topic: sum(max((_term_score(t, topic, index) for t in terms), default=0.0) for terms in matches)
        for topic in index.term_counts
    }


def search(query: str, index: SearchIndex, limit: int = 3) -> list[tuple[str, float]]:
    """Up to `limit` (topic, score) pairs, best first; empty when nothing matches well enough."""
    ranked = sorted(score_topics(query, index).items(), key=lambda item: (-item[1], item[0]))
    if not ranked or ranked[0][1] < MIN_SCORE:
        return []
    floor = max(MIN_SCORE, ranked[0][1] * RELATIVE_CUTOFF)
    return [(topic, score) for topic, score in ranked[:limit] if score >= floor]
