"""A question read into weighted features: words and pairs, lexicon terms, typo-tolerant phrases.

The lexicon's variants are found at word breaks and replaced by the words of their canonical term;
curated phrases typed with a slip are spotted with rapidfuzz. Everything that depends only on the
vocabulary and the index is prepared once, when the reader is built.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from knowledge.index import ClauseIndex
from knowledge.lexicon import Lexicon
from knowledge.tokenizer import Tokenizer

WORD_WEIGHT = 1.0
BIGRAM_WEIGHT = 0.4
SYNONYM_WEIGHT = 1.0
FUZZY_PHRASE_WEIGHT = 0.8
# One wrong character in a five-character phrase scores 80 (Indel ratio); four-character phrases
# are left to the sound-alike corrector, since one slip in four is as close as a different word.
FUZZY_PHRASE_CUTOFF = 80.0
FUZZY_PHRASE_MIN_CHARS = 5
# At the cutoff a phrase may differ from its window in at most this share of its length (Indel).
FUZZY_MISSING_SHARE = 0.4
SINGLE_CHAR_WEIGHT = 0.5
# Everyday words (地方, 工作, 问题) say little about which clause is meant, however rare they are
# in the plan: above this jieba frequency a word's weight shrinks with its log-frequency.
COMMON_WORD_FREQUENCY = 10_000

Span = tuple[int, int, str]


class Expansions(Mapping[str, tuple[str, ...]]):
    """Each lexicon term and curated phrase → its index features, worked out the first time a
    question names it: cutting all ~2,000 at start cost a sixth of a second before any answer."""

    def __init__(self, terms: Iterable[str], expand: Callable[[str], tuple[str, ...]]) -> None:
        self._terms = frozenset(terms)
        self._expand = expand
        self._known: dict[str, tuple[str, ...]] = {}

    def __getitem__(self, term: str) -> tuple[str, ...]:
        known = self._known.get(term)
        if known is None:
            if term not in self._terms:
                raise KeyError(term)
            known = self._known[term] = self._expand(term)
        return known

    def __contains__(self, term: object) -> bool:
        return term in self._terms

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms)

    def __len__(self) -> int:
        return len(self._terms)


class QueryReader:
    """Turns a normalised, corrected question into the features the index scores."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        lexicon: Lexicon,
        phrases: Iterable[str],
        index: ClauseIndex,
        *,
        canonical_terms: set[str],
        asking_words: frozenset[str] = frozenset(),
    ) -> None:
        self._tokenizer = tokenizer
        self._asking_pattern = re.compile(
            "|".join(re.escape(w) for w in sorted(asking_words, key=len, reverse=True)) or r"(?!x)x"
        )
        self._index = index
        self._synonyms = dict(lexicon.synonyms)
        self._patterns = lexicon.patterns
        # The variants' lengths, longest first: at a word break the longest variant that starts
        # there is found by slicing, a dictionary look-up per length (a regex alternation of
        # every variant took a fifth of a second to compile at each start).
        self._variant_lengths = sorted({len(v) for v in self._synonyms}, reverse=True)
        self._fuzzy_phrases = sorted(p for p in phrases if len(p) >= FUZZY_PHRASE_MIN_CHARS)
        # A phrase can reach the typo cutoff only if the question has most of its characters:
        # the characters index narrows the rapidfuzz pass to those candidates.
        self._phrases_by_char: dict[str, list[int]] = {}
        for number, phrase in enumerate(self._fuzzy_phrases):
            for char in set(phrase):
                self._phrases_by_char.setdefault(char, []).append(number)
        self._phrase_needs = [
            len(set(phrase)) - math.ceil(FUZZY_MISSING_SHARE * len(phrase))
            for phrase in self._fuzzy_phrases
        ]
        frequencies = self._tokenizer.word_frequencies
        self._everyday_weight = {
            feature: WORD_WEIGHT / (1 + math.log10(frequencies[feature] / COMMON_WORD_FREQUENCY))
            for feature in index.postings
            if frequencies.get(feature, 0) > COMMON_WORD_FREQUENCY
            and feature not in canonical_terms
        }
        self.expansions: Mapping[str, tuple[str, ...]] = Expansions(
            {
                *self._synonyms.values(),
                *self._fuzzy_phrases,
                *(canonical for _, canonical in lexicon.patterns),
            },
            self._expansion,
        )

    def _expansion(self, term: str) -> tuple[str, ...]:
        """A term's whole words where the index knows them, else their parts (拖欠工资 → 拖欠, 工资).

        Whole words only: adding 用人单位's parts (用人, 单位) as well would count one idea three
        times against a two-character term's once.
        """
        features: list[str] = []
        for word in self._tokenizer.main_words(term):
            if word in self._index.postings:
                features.append(word)
            else:
                features.extend(
                    part for part in self._tokenizer.words(word) if part in self._index.postings
                )
        return tuple(dict.fromkeys(features))

    def read(self, text: str) -> tuple[dict[str, float], list[Span]]:
        """Weighted features, and where in the question each lexicon term was found."""
        features: dict[str, float] = {}
        spans: list[tuple[int, int, str]] = []
        edges = self._tokenizer.boundaries(text)
        for feature in self._tokenizer.features(self._without_asking_words(text, edges)):
            if feature.startswith("#"):
                weight = BIGRAM_WEIGHT
            elif len(feature) == 1:  # 钱, 房, 扣: meaningful, but too loose to lead
                weight = SINGLE_CHAR_WEIGHT
            else:
                weight = self._everyday_weight.get(feature, WORD_WEIGHT)
            features[feature] = max(features.get(feature, 0.0), weight)
        terms: dict[str, float] = {}
        # A variant must start and end at word breaks: 农民工办 inside 农民工办事 is not the office.
        for start in edges:
            variant = self._longest_variant_at(text, start)
            if variant is not None and start + len(variant) in edges:
                terms[self._synonyms[variant]] = SYNONYM_WEIGHT
                spans.append((start, start + len(variant), self._synonyms[variant]))
        for pattern, canonical in self._patterns:
            for found in pattern.finditer(text):
                terms[canonical] = SYNONYM_WEIGHT
                spans.append((found.start(), found.end(), canonical))
        words: list[tuple[int, int]] | None = None  # segmented only when a phrase comes close
        for phrase, _score, _ in process.extract_iter(
            text,
            self._fuzzy_candidates(text),
            scorer=fuzz.partial_ratio,
            score_cutoff=FUZZY_PHRASE_CUTOFF,
        ):
            alignment = fuzz.partial_ratio_alignment(phrase, text)
            if words is None:
                words = self._known_words(text)
            # A window cut short by the end of the question is a shared prefix, not a typo.
            # A short question can sit inside a long phrase (居住证怎么办 in 中介扣证怎么办): the
            # window found must itself be the phrase with a slip, not a fragment of it.
            if (
                alignment is not None
                and alignment.dest_end - alignment.dest_start >= len(phrase) - 1
                and fuzz.ratio(phrase, text[alignment.dest_start : alignment.dest_end])
                >= FUZZY_PHRASE_CUTOFF
                and not self._slip_is_a_word(
                    text, phrase, alignment.dest_start, alignment.dest_end, words
                )
            ):
                terms.setdefault(phrase, FUZZY_PHRASE_WEIGHT)
                spans.append((alignment.dest_start, alignment.dest_end, phrase))
        for term, weight in terms.items():
            for feature in self.expansions[term]:
                features[feature] = max(features.get(feature, 0.0), weight)
        return features, spans

    def _longest_variant_at(self, text: str, start: int) -> str | None:
        """The longest lexicon variant that `text` has at `start`, whether or not it ends at a
        word break (a shorter one inside it is no variant the asker said)."""
        for length in self._variant_lengths:
            if start + length <= len(text) and text[start : start + length] in self._synonyms:
                return text[start : start + length]
        return None

    def _without_asking_words(self, text: str, edges: set[int]) -> str:
        """The question with the words that ask how long or whether (多长时间, 合法) blanked out.

        They say what kind of answer is wanted, which the answer kinds judge; matched as words,
        a curated phrase that happens to ask the same way (仲裁要多长时间) would win on them.
        Only whole words are blanked: 合法 in 合法权益 stays.
        """
        pieces: list[str] = []
        last = 0
        for found in self._asking_pattern.finditer(text):
            if found.start() in edges and found.end() in edges:
                pieces.extend((text[last : found.start()], " "))
                last = found.end()
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)

    def _known_words(self, text: str) -> list[tuple[int, int]]:
        frequencies = self._tokenizer.word_frequencies
        return [
            (start, end)
            for word, start, end in self._tokenizer.segment(text)
            if end - start >= 2 and frequencies.get(word, 0) > 0
        ]

    def _slip_is_a_word(
        self, text: str, phrase: str, start: int, end: int, words: list[tuple[int, int]]
    ) -> bool:
        """Where the window differs from the phrase, was a real word typed (申请, not 申诉), or a
        function word typed in place of one of the phrase's characters (能领养老金 is no slip for
        冒领养老金: 能 is the asker's grammar)? A function word added between the phrase's
        characters is only grammar (年假有几天 is 年假几天)."""
        window = text[start:end]
        # Insertions and deletions only: a character typed in place of one of the phrase's is an
        # insertion beside a deletion (Levenshtein's replacements could pair any two characters).
        operations = Indel.editops(phrase, window)
        # The phrase's characters left out, by position: an insertion just before or after one
        # is a character typed in its place.
        left_out = {operation.src_pos for operation in operations if operation.tag == "delete"}
        for operation in operations:
            if operation.tag != "insert":
                continue
            position = start + operation.dest_pos
            if any(s <= position < e for s, e in words):
                return True
            in_place = operation.src_pos in left_out or operation.src_pos - 1 in left_out
            if in_place and not self._tokenizer.is_content(text[position]):
                return True
        return False

    def _fuzzy_candidates(self, text: str) -> list[str]:
        """Phrases sharing enough of their characters with the question to be typed with a slip."""
        shared: Counter[int] = Counter()
        for char in set(text):
            shared.update(self._phrases_by_char.get(char, ()))
        return [
            self._fuzzy_phrases[number]
            for number, count in shared.items()
            if count >= self._phrase_needs[number]
        ]
