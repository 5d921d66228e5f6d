"""How much of a question a clause explains: the evidence for answering at all.

A question's content words carry information in proportion to how rare they are in general
Chinese (jieba's dictionary frequencies, a reviewed general lexicon): 工伤 says more than 公司,
膏药 more than 一下. A clause explains a word when it contains the word, one of its parts, one of
its character pairs, or the lexicon term the word is a variant of. The share of the question's
information a clause explains is its coverage; an answer that explains little of what was asked
— a blood-pressure question that merely shares 单位 with an article — is no answer.

What no clause of the whole library explains is foreign to it: a noun of jieba's dictionary (a
real word, not a typo; a thing asked about, not how it is said — 给钱, 讲讲) that no document uses.
A question that says more in such words than its best clause explains — 鸡蛋 against 判断 —
asks about something else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from functools import cached_property

from knowledge.tokenizer import Tokenizer

# Words this common (about one in a thousand words of running text) carry no information here.
COMMON_INFORMATION = 3.0
# A word jieba's dictionary does not know is a typo, a dialect form or a rare term: some content.
UNKNOWN_WORD_INFORMATION = 1.5
SINGLE_CHAR_FACTOR = 0.3
# Amounts and durations (一千元, 三个月, 500) are the asker's particulars, not what they ask about.
QUANTITY_INFORMATION = 0.2
_QUANTITY = re.compile(
    r"^[0-9零〇一二两三四五六七八九十百千万几半多]+[元块年月天日号个岁次倍周份]*$"
)


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of the question and the clause features that would explain it."""

    start: int
    end: int
    features: tuple[str, ...]


@dataclass(frozen=True)
class QuestionContent:
    """A question's content words with their information, and every way a clause may explain them."""

    text: str
    words: tuple[tuple[int, int, float], ...]
    spans: tuple[Span, ...]
    # Positions in `words` of nouns (not typos, not who is asking) that may be foreign.
    nouns: tuple[int, ...] = ()

    @property
    def information(self) -> float:
        return sum(weight for _, _, weight in self.words)

    def coverage(self, clause_features: Set[str]) -> float:
        """The share of the question's information this clause explains (0 for an empty question)."""
        total = self.information
        if total <= 0:
            return 0.0
        explained = self._explained(clause_features)
        covered = sum(
            weight * sum(explained[start:end]) / (end - start) for start, end, weight in self.words
        )
        return covered / total

    def foreign(self, library_features: Set[str]) -> float:
        """Information in nouns of which no character is explained by the library's features."""
        explained = self._explained(library_features)
        return sum(
            weight
            for start, end, weight in (self.words[i] for i in self.nouns)
            if not any(explained[start:end])
        )

    def _explained(self, features: Set[str]) -> bytearray:
        explained = bytearray(len(self.text))
        for feature in self._span_features & features:
            for start, end in self._spans_by_feature[feature]:
                explained[start:end] = b"\x01" * (end - start)
        return explained

    @cached_property
    def _spans_by_feature(self) -> dict[str, list[tuple[int, int]]]:
        by_feature: dict[str, list[tuple[int, int]]] = {}
        for span in self.spans:
            for feature in span.features:
                by_feature.setdefault(feature, []).append((span.start, span.end))
        return by_feature

    @cached_property
    def _span_features(self) -> frozenset[str]:
        return frozenset(self._spans_by_feature)


class ContentReader:
    """Built once with the tokenizer; reads a question's content in one pass."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        asking_words: frozenset[str] = frozenset(),
        asker: re.Pattern[str] | None = None,
    ) -> None:
        self._tokenizer = tokenizer
        self._asking_words = asking_words
        # Who is asking (我家, 老伴, 闺女) is no topic, whether the library names them or not.
        self._asker = asker
        # What a question is about is named by nouns: the dictionary's words not tagged otherwise.
        self._other_than_nouns = tokenizer.other_than_nouns
        self._frequencies = tokenizer.word_frequencies
        self._total = sum(self._frequencies.values()) or 1

    def information(self, word: str) -> float:
        if word in self._asking_words:
            return 0.0
        if _QUANTITY.match(word):
            return QUANTITY_INFORMATION
        frequency = self._frequencies.get(word, 0)
        if frequency <= 0:
            weight = UNKNOWN_WORD_INFORMATION
        else:
            weight = max(0.0, math.log10(self._total / (frequency + 1)) - COMMON_INFORMATION)
        return weight * (SINGLE_CHAR_FACTOR if len(word) == 1 else 1.0)

    def read(
        self,
        text: str,
        term_spans: Sequence[tuple[int, int, str]],
        expansions: Mapping[str, tuple[str, ...]],
    ) -> QuestionContent:
        """`term_spans` are lexicon terms found in the question (start, end, canonical term)."""
        words: list[tuple[int, int, float]] = []
        nouns: list[int] = []
        spans: list[Span] = []
        for word, start, end in self._tokenizer.segment(text):
            if not self._tokenizer.is_content(word):
                continue
            weight = self.information(word)
            if weight > 0:
                is_noun = self._frequencies.get(word, 0) > 0 and word not in self._other_than_nouns
                if is_noun and not (self._asker is not None and self._asker.fullmatch(word)):
                    nouns.append(len(words))
                words.append((start, end, weight))
            spans.append(Span(start, end, (word,)))
            for part in self._tokenizer.words(word):
                offset = word.find(part)
                if part != word and offset >= 0:
                    spans.append(Span(start + offset, start + offset + len(part), (part,)))
        for i in range(len(text) - 1):
            pair = text[i : i + 2]
            spans.append(Span(i, i + 2, (pair, "#" + pair)))
        for start, end, term in term_spans:
            spans.append(Span(start, end, (term, *expansions.get(term, ()))))
        return QuestionContent(text, tuple(words), tuple(spans), tuple(nouns))
