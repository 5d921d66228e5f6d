"""The review queue: stored questions the bot could not answer or that got 没用, with near-identical
ones grouped into one row (same text once simplified, lower-cased and stripped of punctuation,
or within a few characters of each other by rapidfuzz's ratio)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rapidfuzz import fuzz, process

from bot.storage.models import QuestionRow

# 我想学开挖掘机 and 我想学开挖掘机啊 are one question; 工伤 and 工资 are not.
SIMILARITY_CUTOFF = 88.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")


def normalised(text: str, to_simplified: Callable[[str], str]) -> str:
    """The form two askings of one question share."""
    folded = unicodedata.normalize("NFKC", to_simplified(text)).lower()
    return _NOT_WORD.sub("", folded)


@dataclass
class QuestionGroup:
    """One row of the queue: near-identical questions, most often asked wording first."""

    key: str
    question_ids: list[int] = field(default_factory=list)
    wordings: Counter[str] = field(default_factory=Counter)
    unanswered: int = 0
    disliked: int = 0
    latest: datetime | None = None

    @property
    def count(self) -> int:
        return len(self.question_ids)

    @property
    def text(self) -> str:
        return self.wordings.most_common(1)[0][0]

    def add(self, row: QuestionRow, text: str) -> None:
        assert row.id is not None
        self.question_ids.append(row.id)
        self.wordings[text] += 1
        if row.fallback:
            self.unanswered += 1
        if row.useful is False:
            self.disliked += 1
        if self.latest is None or row.asked_at > self.latest:
            self.latest = row.asked_at


def group_questions(
    rows: Iterable[QuestionRow],
    to_simplified: Callable[[str], str],
    *,
    newest_first: bool = False,
) -> list[QuestionGroup]:
    """Most frequent first (then newest), or newest first."""
    by_key: dict[str, list[tuple[QuestionRow, str]]] = {}
    for row in rows:
        if row.text:
            text = " ".join(row.text.split())
            by_key.setdefault(normalised(text, to_simplified) or text, []).append((row, text))
    groups: list[QuestionGroup] = []
    keys: list[str] = []
    # The most asked wording founds its group; rarer near-duplicates join it.
    for key in sorted(by_key, key=lambda k: (-len(by_key[k]), k)):
        found = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=SIMILARITY_CUTOFF)
        if found is None:
            group = QuestionGroup(key)
            groups.append(group)
            keys.append(key)
        else:
            group = groups[found[2]]
        for row, text in by_key[key]:
            group.add(row, text)
    if newest_first:
        return sorted(groups, key=lambda g: g.latest or EPOCH, reverse=True)
    return sorted(groups, key=lambda g: (g.count, g.latest or EPOCH), reverse=True)
