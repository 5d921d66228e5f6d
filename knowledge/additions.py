"""Reviewed additions made after the curated files were written: workers' phrases attached to a
clause and synonyms for a lexicon term, as curators add them in the console.

They join the knowledge base the matcher is built from, exactly as if they were in the curated
files (phrases) and in `synonyms.toml` (variants), so the matcher's logic stays the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from knowledge.curation import Curation
from knowledge.document import Document
from knowledge.index import FeatureCache
from knowledge.lexicon import Lexicon
from knowledge.match import Matcher

# The lexicon's own rule: shorter variants would hide inside unrelated words.
MIN_VARIANT_CHARS = 2
MAX_ADDITION_CHARS = 40


class AdditionError(ValueError):
    """An addition that cannot be used; the message is for the curator."""


def _empty_phrases() -> Mapping[tuple[str, str], tuple[str, ...]]:
    return MappingProxyType({})


def _empty_synonyms() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Additions:
    """Phrases per (document key, clause id), and variant → canonical term."""

    phrases: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=_empty_phrases)
    synonyms: Mapping[str, str] = field(default_factory=_empty_synonyms)

    @property
    def is_empty(self) -> bool:
        return not self.phrases and not self.synonyms


def clean_addition(text: str) -> str:
    """One line, trimmed, lower case (the lexicon and the phrases are matched in lower case)."""
    cleaned = " ".join(text.split()).lower()
    if len(cleaned) < MIN_VARIANT_CHARS:
        raise AdditionError(f"至少要 {MIN_VARIANT_CHARS} 个字")
    if len(cleaned) > MAX_ADDITION_CHARS:
        raise AdditionError(f"最多 {MAX_ADDITION_CHARS} 个字")
    return cleaned


def check_synonym(variant: str, canonical: str, lexicon: Lexicon) -> None:
    """A variant may name one term only: the lexicon's first mapping wins, so a clash is refused."""
    if variant == canonical:
        raise AdditionError("同义词和标准词不能一样")
    known = lexicon.synonyms.get(variant)
    if known is not None and known != canonical:
        raise AdditionError(f"“{variant}”已经是“{known}”的同义词")


def with_phrases(
    knowledge: Iterable[tuple[Document, Curation | None]], additions: Additions
) -> list[tuple[Document, Curation | None]]:
    """The knowledge with each added phrase appended to its curated clause (new ones only)."""
    result: list[tuple[Document, Curation | None]] = []
    for document, curation in knowledge:
        if curation is not None:
            clauses = dict(curation.clauses)
            for clause_id, curated in curation.clauses.items():
                extra = additions.phrases.get((document.key, clause_id), ())
                new = tuple(p for p in dict.fromkeys(extra) if p not in curated.phrases)
                if new:
                    clauses[clause_id] = dataclasses.replace(curated, phrases=curated.phrases + new)
            curation = dataclasses.replace(curation, clauses=MappingProxyType(clauses))
        result.append((document, curation))
    return result


def with_synonyms(lexicon: Lexicon, additions: Additions) -> Lexicon:
    """The lexicon with the added variants; a variant it already maps keeps its mapping."""
    if not additions.synonyms:
        return lexicon
    synonyms = dict(lexicon.synonyms)
    for variant, canonical in additions.synonyms.items():
        synonyms.setdefault(canonical, canonical)
        synonyms.setdefault(variant, canonical)
    return dataclasses.replace(lexicon, synonyms=MappingProxyType(synonyms))


def matcher_with(
    knowledge: Iterable[tuple[Document, Curation | None]],
    lexicon: Lexicon,
    additions: Additions,
    *,
    feature_cache: FeatureCache | None = None,
) -> Matcher:
    """The matcher over the knowledge and lexicon with the additions in place."""
    return Matcher(
        with_phrases(knowledge, additions),
        with_synonyms(lexicon, additions),
        feature_cache=feature_cache,
    )
