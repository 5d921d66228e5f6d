"""What the library cannot answer: other places' rules, everyday topics and uncovered domains.

The word lists are reviewed data (`data/scope.toml`); this module only reads them and applies them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# 河北区 is a Tianjin district; 河北 alone is the neighbouring province.
_TIANJIN_DISTRICT_HEBEI = "河北区"


@dataclass(frozen=True, slots=True)
class ScopeRules:
    other_regions: tuple[str, ...]
    tianjin_markers: tuple[str, ...]
    origin_before: re.Pattern[str]
    origin_after: re.Pattern[str]
    off_topic: tuple[str, ...]
    off_domain: tuple[str, ...]
    everyday_domain: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScopeCheck:
    """Why a question may be outside the library: another place, an everyday topic, another domain."""

    other_region: str | None
    is_off_topic: bool
    # Words of domains no document covers, as found in the question.
    off_domain: tuple[str, ...] = ()
    # Words of everyday matters (pets, bank cards, a private landlord) the library never speaks of.
    everyday_domain: tuple[str, ...] = ()


def _words(table: Any, where: str) -> tuple[str, ...]:
    if isinstance(table, dict):
        return tuple(word for group in table.values() for word in _words(group, where))
    if not isinstance(table, list) or not all(isinstance(w, str) and w for w in table):
        raise ValueError(f"scope: '{where}' must list non-empty words")
    return tuple(word.lower() for word in table)


def parse_scope_rules(data: Mapping[str, Any]) -> ScopeRules:
    regions = data.get("regions", {})
    return ScopeRules(
        other_regions=_words(regions.get("other", []), "regions.other"),
        tianjin_markers=_words(regions.get("tianjin", []), "regions.tianjin"),
        origin_before=re.compile(str(regions.get("origin_before", r"(?!x)x"))),
        origin_after=re.compile(str(regions.get("origin_after", r"(?!x)x"))),
        off_topic=_words(data.get("off_topic", {}), "off_topic"),
        off_domain=_words(data.get("off_domain", {}), "off_domain"),
        everyday_domain=_words(data.get("everyday_domain", {}), "everyday_domain"),
    )


def load_scope_rules(path: Path) -> ScopeRules:
    return parse_scope_rules(tomllib.loads(path.read_text(encoding="utf-8")))


def _region_is_asked_about(rules: ScopeRules, text: str, region: str) -> bool:
    for match in re.finditer(re.escape(region), text):
        before = text[max(0, match.start() - 4) : match.start()]
        after = text[match.end() : match.end() + 5]
        if not (rules.origin_before.search(before) or rules.origin_after.search(after)):
            return True
    return False


def _found(word: str, text: str, words: Sequence[tuple[str, int, int]]) -> bool:
    """`word` is said in `text`, not merely spelled inside a longer word (动车 in 电动车).

    A longer word that starts with it is still about it (股票账户, 高铁站, 买房子), but one
    character must be a word of its own: 猫 is the animal, 猫腻 a trick and 熊猫 another animal.
    """
    if len(word) == 1 and words:
        return any(said == word for said, _, _ in words)
    return any(
        not any(start < match.start() < end for _, start, end in words)
        for match in re.finditer(re.escape(word), text)
    )


def check_scope(
    text: str, rules: ScopeRules, words: Sequence[tuple[str, int, int]] = ()
) -> ScopeCheck:
    """`text` is normalised (simplified, lower case); `words` the words found in it, if known."""
    without_districts = text.replace(_TIANJIN_DISTRICT_HEBEI, "")
    mentions_tianjin = any(marker in text for marker in rules.tianjin_markers)
    other_region = None
    if not mentions_tianjin:
        other_region = next(
            (r for r in rules.other_regions if _region_is_asked_about(rules, without_districts, r)),
            None,
        )
    return ScopeCheck(
        other_region=other_region,
        is_off_topic=any(_found(word, text, words) for word in rules.off_topic),
        off_domain=tuple(word for word in rules.off_domain if _found(word, text, words)),
        everyday_domain=tuple(w for w in rules.everyday_domain if _found(w, text, words)),
    )
