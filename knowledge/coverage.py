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

from knowledge.numerals import QUANTITY_PHRASE
from knowledge.tokenizer import Tokenizer

# Words this common (about one in a thousand words of running text) carry no information here.
COMMON_INFORMATION = 3.0
# A word jieba's dictionary does not know is a typo, a dialect form or a rare term: some content.
UNKNOWN_WORD_INFORMATION = 1.5
SINGLE_CHAR_FACTOR = 0.3
# Amounts and durations (一千元, 三个月, 这个月, 500) are the asker's particulars, not what they ask about.
QUANTITY_INFORMATION = 0.2
_QUANTITY = re.compile(
    r"^[0-9零〇一二两三四五六七八九十百千万几半多]+[元块年月天日号个岁次倍周份]*$"
)
# Workers mark their clauses with punctuation or with spaces; a question mark stays with its clause.
_CLAUSE = re.compile(r"[^\s，,。.？?！!；;：:、~～…]+[？?]?")
# In ranking, what the ask itself names weighs this many times the background story's words.
FOCUS_FACTOR = 3.0
# An ask that names less than this ("这说法对吗", "我该怎么办") is about the whole story.
FOCUS_MIN_INFORMATION = 2.0
FOCUS_MIN_STORY_CLAUSES = 2
# A legal term the asker's own wording was read as (能否按工伤 → 认定为工伤) names what is asked:
# in ranking it weighs this share of its words' information again, and only a clause that says
# the term itself explains that share — one that merely shares 工伤 does not.
TERM_SHARE = 0.3
# A term read from the asker's wording: its information, whether the ask says it, and the feature
# sets (the term, or all of its words) any one of which explains it.
AskedTerm = tuple[float, bool, tuple[frozenset[str], ...]]


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
    # Positions in `words` inside the clauses that ask (the rest is the background story).
    focus: frozenset[int] = frozenset()
    # Legal terms read from the asker's own wording (see `AskedTerm`).
    terms: tuple[AskedTerm, ...] = ()

    @property
    def information(self) -> float:
        return sum(weight for _, _, weight in self.words)

    def coverage(self, clause_features: Set[str], focus_factor: float = 1.0) -> float:
        """The share of the question's information this clause explains (0 for an empty question).

        With a `focus_factor` the words of the clauses that ask weigh that many times the others.
        """
        return self._share(clause_features, focus_factor, ())

    def asked_coverage(self, clause_features: Set[str], focus_factor: float = 1.0) -> float:
        """Like `coverage`, with each legal term read from the asker's wording as one more word
        that only a clause saying the term (or all of its words) explains."""
        return self._share(clause_features, focus_factor, self.terms)

    def _share(
        self,
        clause_features: Set[str],
        focus_factor: float,
        terms: Sequence[AskedTerm],
    ) -> float:
        weights = [
            weight * (focus_factor if i in self.focus else 1.0)
            for i, (_, _, weight) in enumerate(self.words)
        ]
        term_weights = [weight * (focus_factor if asked else 1.0) for weight, asked, _ in terms]
        total = sum(weights) + sum(term_weights)
        if total <= 0:
            return 0.0
        explained = self._explained(clause_features)
        covered = sum(
            weight * sum(explained[start:end]) / (end - start)
            for (start, end, _), weight in zip(self.words, weights, strict=True)
        )
        covered += sum(
            weight
            for weight, (_, _, ways) in zip(term_weights, terms, strict=True)
            if any(way <= clause_features for way in ways)
        )
        return covered / total

    def shared(self, lead_features: Set[str], other_features: Set[str]) -> float:
        """Of the information the lead clause explains, the share the other clause explains too."""
        lead, other = self._explained(lead_features), self._explained(other_features)
        both = bytes(a & b for a, b in zip(lead, other, strict=True))
        explained = sum(weight * sum(lead[start:end]) for start, end, weight in self.words)
        if explained <= 0:
            return 1.0
        return sum(weight * sum(both[start:end]) for start, end, weight in self.words) / explained

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
        asks: re.Pattern[str] | None = None,
        legal_terms: frozenset[str] = frozenset(),
    ) -> None:
        self._tokenizer = tokenizer
        # The reviewed lexicon's canonical terms, which an asker's variant may be read as.
        self._legal_terms = legal_terms
        # How a clause asks (吗, 能不能, 找谁): it names what the answer must be about.
        self._asks = asks
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
        if _QUANTITY.match(word) or QUANTITY_PHRASE.fullmatch(word):
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
        focus = self._focus(text, words)
        terms = self._asked_terms(text, words, focus, term_spans, expansions)
        return QuestionContent(text, tuple(words), tuple(spans), tuple(nouns), focus, terms)

    def _asked_terms(
        self,
        text: str,
        words: Sequence[tuple[int, int, float]],
        focus: frozenset[int],
        term_spans: Sequence[tuple[int, int, str]],
        expansions: Mapping[str, tuple[str, ...]],
    ) -> tuple[AskedTerm, ...]:
        """The legal terms the asker's own words were read as (算工伤 → 认定为工伤, not 工伤 itself),
        each with the information of the words it spans."""
        terms: dict[str, AskedTerm] = {}
        for start, end, term in term_spans:
            if term not in self._legal_terms or text[start:end] == term:
                continue
            inside = [i for i, (s, e, _) in enumerate(words) if start <= s and e <= end]
            # One noun read as a term (劳动仲裁 → 劳动争议仲裁) is the topic, which its word already
            # weighs; a phrase (能否按工伤) or a verb (辞人) read as one says what is asked of it.
            if len(inside) == 1 and text[start:end] not in self._other_than_nouns:
                continue
            weight = TERM_SHARE * sum(words[i][2] for i in inside)
            if weight <= 0 or weight <= terms.get(term, (0.0,))[0]:
                continue
            ways = {frozenset((term,)), frozenset(expansions.get(term) or (term,))}
            asked = bool(focus) and all(i in focus for i in inside)
            terms[term] = (weight, asked, tuple(ways))
        return tuple(terms.values())

    def _focus(self, text: str, words: Sequence[tuple[int, int, float]]) -> frozenset[int]:
        """Positions of the words in the clauses that ask, or in the last clause if none asks.

        None when there is no story to set apart: under two clauses besides the ask, or an ask
        that names too little itself ("这说法对吗" points back at the whole story).
        """
        clauses = [(found.start(), found.end()) for found in _CLAUSE.finditer(text)]
        if len(clauses) < 2 or self._asks is None:
            return frozenset()
        chosen = [n for n, (start, end) in enumerate(clauses) if self._asks.search(text[start:end])]
        chosen = chosen or [len(clauses) - 1]
        named = sum(
            w for s, e, w in words if any(clauses[n][0] <= s and e <= clauses[n][1] for n in chosen)
        )
        # One clause before the ask is its condition or its topic (合同签一年，试用期最长多久), no story.
        if named < FOCUS_MIN_INFORMATION or len(clauses) - len(chosen) < FOCUS_MIN_STORY_CLAUSES:
            return frozenset()
        inside = [clauses[n] for n in chosen]
        return frozenset(
            i for i, (s, e, _) in enumerate(words) if any(a <= s and e <= b for a, b in inside)
        )
