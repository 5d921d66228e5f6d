"""The clause index: every clause's features and BM25 weights, computed once at start-up.

Each clause is read through several fields — the plan's own text, the curated title, summary and
next steps, and the words workers use for it — each with a weight. Per-feature BM25 weights are
precomputed into postings, so scoring a question is a few dictionary look-ups and additions.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from knowledge.curation import CuratedClause, Curation, Topic
from knowledge.document import Clause, Document
from knowledge.tokenizer import Tokenizer

# How much a field says about what a clause is for: workers' words and titles most, next steps least.
FIELD_WEIGHTS: Mapping[str, float] = {
    "phrases": 2.0,
    "title": 2.0,
    "summary": 1.0,
    "text": 1.0,
    "next_steps": 0.3,
    # The titles of the chapter and section an article stands in (第三章 工伤认定).
    "context": 0.5,
}
# A word in the clause's own title says what it is about beyond what BM25's saturated count can:
# 落户 in 居住证和积分落户 outweighs 落户 said three times in the fiscal-transfer clause.
TITLE_BONUS = 0.3
BM25_K1 = 1.2
BM25_B = 0.5


@dataclass(frozen=True, slots=True)
class IndexedClause:
    """A clause with what the index knows about it."""

    document_key: str
    short_title: str
    clause: Clause
    curated: CuratedClause | None
    # The headings above the clause, nearest last: what its part of the document is about.
    context: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.document_key, self.clause.id)

    @property
    def title(self) -> str:
        return self.curated.title if self.curated else self.clause.title

    @property
    def topic(self) -> Topic | None:
        return self.curated.topic if self.curated else None

    @property
    def is_item(self) -> bool:
        return self.clause.kind in ("item", "article")


@dataclass(frozen=True, slots=True)
class Posting:
    entry: int
    weight: float


def clause_fields(entry: IndexedClause) -> dict[str, str]:
    """The texts of a clause the index reads, by field name."""
    fields = {"text": entry.clause.text, "title": entry.clause.title, "context": entry.context}
    if entry.curated is not None:
        curated = entry.curated
        fields["title"] = f"{entry.clause.title} {curated.title}"
        fields["summary"] = curated.summary
        fields["next_steps"] = curated.next_steps
        fields["phrases"] = " ".join(curated.phrases)
    return fields


class FeatureCache(Protocol):
    """Clause features tokenised by an earlier start, by a key of their texts and the tokenizer."""

    def get_many(self, keys: Sequence[str]) -> Mapping[str, Mapping[str, float]]: ...

    def put_many(self, counts: Mapping[str, Mapping[str, float]]) -> None: ...


def feature_key(entry: IndexedClause, tokenizer_fingerprint: str) -> str:
    """Changes whenever a clause's indexed texts, the field weights or the tokenizer change."""
    digest = hashlib.sha256(tokenizer_fingerprint.encode())
    for field, text in sorted(clause_fields(entry).items()):
        digest.update(f"\x00{field}\x01{FIELD_WEIGHTS[field]}\x02{text}".encode())
    return digest.hexdigest()


class ClauseIndex:
    """Postings from feature to (clause, BM25 weight), and the clauses themselves."""

    def __init__(
        self,
        entries: Sequence[IndexedClause],
        tokenizer: Tokenizer,
        cache: FeatureCache | None = None,
    ) -> None:
        self.entries: tuple[IndexedClause, ...] = tuple(entries)
        self.positions: dict[tuple[str, str], int] = {
            entry.key: position for position, entry in enumerate(self.entries)
        }
        weighted_counts = self._all_weighted_counts(tokenizer, cache)
        lengths = [sum(counts.values()) for counts in weighted_counts]
        average_length = sum(lengths) / max(len(lengths), 1)
        document_frequency: Counter[str] = Counter()
        for counts in weighted_counts:
            document_frequency.update(counts.keys())
        total = len(self.entries)
        self.idf: dict[str, float] = {
            feature: math.log(1 + (total - df + 0.5) / (df + 0.5))
            for feature, df in document_frequency.items()
        }
        postings: defaultdict[str, list[Posting]] = defaultdict(list)
        for position, counts in enumerate(weighted_counts):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[position] / average_length)
            title_words = set(tokenizer.words(self.entries[position].title.lower()))
            for feature, tf in counts.items():
                weight = self.idf[feature] * tf * (BM25_K1 + 1) / (tf + norm)
                if feature in title_words:
                    weight += self.idf[feature] * TITLE_BONUS
                postings[feature].append(Posting(position, weight))
        self.postings: dict[str, tuple[Posting, ...]] = {
            feature: tuple(items) for feature, items in postings.items()
        }
        # What each clause says, for judging how much of a question it explains.
        self.features: tuple[frozenset[str], ...] = tuple(
            frozenset(counts) for counts in weighted_counts
        )

    def _all_weighted_counts(
        self, tokenizer: Tokenizer, cache: FeatureCache | None
    ) -> list[Mapping[str, float]]:
        """Tokenising every clause is most of the start-up; a cache keeps what did not change."""
        if cache is None:
            return [self._weighted_counts(entry, tokenizer) for entry in self.entries]
        keys = [feature_key(entry, tokenizer.fingerprint) for entry in self.entries]
        known = cache.get_many(keys)
        fresh = {
            key: self._weighted_counts(entry, tokenizer)
            for key, entry in zip(keys, self.entries, strict=True)
            if key not in known
        }
        if fresh:
            cache.put_many(fresh)
        return [known.get(key) or fresh[key] for key in keys]

    @staticmethod
    def _weighted_counts(entry: IndexedClause, tokenizer: Tokenizer) -> dict[str, float]:
        counts: defaultdict[str, float] = defaultdict(float)
        for field, text in clause_fields(entry).items():
            weight = FIELD_WEIGHTS[field]
            for feature in tokenizer.features(text.lower()):
                counts[feature] += weight
        return counts

    def score(self, features: Mapping[str, float]) -> list[float]:
        """BM25 score of every clause for weighted query features."""
        scores = [0.0] * len(self.entries)
        for feature, query_weight in features.items():
            for posting in self.postings.get(feature, ()):
                scores[posting.entry] += query_weight * posting.weight
        return scores


def indexed_clauses(
    knowledge: Iterable[tuple[Document, Curation | None]],
) -> list[IndexedClause]:
    """Every clause of every document, paired with its curated entry where one exists."""
    entries: list[IndexedClause] = []
    for document, curation in knowledge:
        short_title = curation.short_title if curation else document.short_title
        titles = {clause.id: clause.title for clause in document.clauses}
        parents = {clause.id: clause.parent for clause in document.clauses}
        for clause in document.clauses:
            curated = curation.clauses.get(clause.id) if curation else None
            headings: list[str] = []
            parent = clause.parent
            while parent is not None and parent in titles:
                headings.insert(0, titles[parent])
                parent = parents[parent]
            entries.append(
                IndexedClause(document.key, short_title, clause, curated, " ".join(headings))
            )
    return entries


def heading_heights(entries: Sequence[IndexedClause]) -> dict[int, int]:
    """Position → how many levels of clauses lie below it, for every clause that has children."""
    children: dict[tuple[str, str | None], list[str]] = {}
    for entry in entries:
        children.setdefault((entry.document_key, entry.clause.parent), []).append(entry.clause.id)

    def height(document_key: str, clause_id: str) -> int:
        below = children.get((document_key, clause_id), [])
        return 1 + max((height(document_key, child) for child in below), default=-1)

    heights = {
        position: height(entry.document_key, entry.clause.id)
        for position, entry in enumerate(entries)
    }
    return {position: h for position, h in heights.items() if h > 0}
