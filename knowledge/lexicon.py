"""The domain lexicon: workers' words mapped onto the plan's terms, and the jieba user dictionary."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Workers' variants → canonical terms, and the words jieba must keep whole."""

    synonyms: Mapping[str, str]
    user_words: tuple[tuple[str, int], ...]
    stopwords: frozenset[str] = frozenset()
    # Each CJK character's everyday toneless pinyin (data/char_pinyin.tsv).
    readings: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # jieba's base dictionary; None means jieba's own full one.
    dictionary_path: Path | None = None
    # Regular expressions for what a word list can't enumerate (摔断了腿, 压伤了手 → 工伤).
    patterns: tuple[tuple[re.Pattern[str], str], ...] = ()

    @property
    def canonical_terms(self) -> frozenset[str]:
        return frozenset(self.synonyms.values())


def parse_synonyms(data: Mapping[str, object]) -> dict[str, str]:
    """`[terms] canonical = [variants]` → {variant: canonical}; canonical terms map to themselves.

    A term only `[patterns]` name maps to itself too: canonical terms join jieba's dictionary,
    and one left out is read in parts (期限届满 → 期限, 届满) that other clauses share.
    """
    terms = data.get("terms", {})
    if not isinstance(terms, dict):
        raise ValueError("synonyms: [terms] must be a table")
    mapping: dict[str, str] = {}
    for canonical, variants in terms.items():
        if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            raise ValueError(f"synonyms: '{canonical}' must map to a list of texts")
        mapping.setdefault(canonical.lower(), canonical.lower())
        for variant in variants:
            variant = variant.strip().lower()
            if len(variant) >= 2:
                mapping.setdefault(variant, canonical.lower())
    patterns = data.get("patterns", {})
    if isinstance(patterns, dict):
        for canonical in patterns:
            mapping.setdefault(canonical.lower(), canonical.lower())
    return mapping


def parse_patterns(data: Mapping[str, object]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """`[patterns] canonical = [regex, ...]` → compiled (pattern, canonical) pairs."""
    table = data.get("patterns", {})
    if not isinstance(table, dict):
        raise ValueError("synonyms: [patterns] must be a table")
    patterns: list[tuple[re.Pattern[str], str]] = []
    for canonical, expressions in table.items():
        if not isinstance(expressions, list):
            raise ValueError(f"synonyms: pattern '{canonical}' must map to a list of expressions")
        for expression in expressions:
            try:
                patterns.append((re.compile(str(expression)), canonical.lower()))
            except re.error as error:
                raise ValueError(f"synonyms: bad pattern {expression!r}: {error}") from error
    return tuple(patterns)


def parse_user_dictionary(lines: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """jieba's `word [freq] [tag]` lines; blank lines and # comments skipped."""
    words: list[tuple[str, int]] = []
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        frequency = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 1000
        words.append((fields[0], frequency))
    return tuple(words)


def bundled_data_path(name: str) -> Path:
    """A data file shipped in `knowledge/data/`."""
    return Path(str(files("knowledge").joinpath("data", name)))


def parse_stopwords(lines: Iterable[str]) -> frozenset[str]:
    return frozenset(word for line in lines if (word := line.split("#", 1)[0].strip()))


def parse_readings(lines: Iterable[str]) -> dict[str, str]:
    """`字<TAB>zi` lines → {字: zi}."""
    readings: dict[str, str] = {}
    for line in lines:
        char, _, reading = line.partition("\t")
        if char and reading:
            readings[char] = reading.strip()
    return readings


def load_lexicon(
    synonyms_path: Path | None = None,
    user_dictionary_path: Path | None = None,
    stopwords_path: Path | None = None,
) -> Lexicon:
    """The bundled lexicon unless other files are given."""
    synonyms_path = synonyms_path or bundled_data_path("synonyms.toml")
    user_dictionary_path = user_dictionary_path or bundled_data_path("userdict.txt")
    stopwords_path = stopwords_path or bundled_data_path("stopwords.txt")
    data = tomllib.loads(synonyms_path.read_text(encoding="utf-8"))
    user_words = parse_user_dictionary(
        user_dictionary_path.read_text(encoding="utf-8").splitlines()
    )
    return Lexicon(
        synonyms=MappingProxyType(parse_synonyms(data)),
        user_words=user_words,
        patterns=parse_patterns(data),
        stopwords=parse_stopwords(stopwords_path.read_text(encoding="utf-8").splitlines()),
        readings=MappingProxyType(
            parse_readings(
                bundled_data_path("char_pinyin.tsv").read_text(encoding="utf-8").splitlines()
            )
        ),
        dictionary_path=bundled_data_path("jieba_dict.txt"),
    )
