"""jieba tokenisation with the domain's user dictionary, into the features the index scores."""

from __future__ import annotations

import functools
import hashlib
import importlib
import logging
import re
import sys
from bisect import bisect_right
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from knowledge.numerals import QUANTITY_PHRASE

# Questions whose segmentation is kept: enough for the handful of passes over one question.
SEGMENT_CACHE_SIZE = 64
# Single words are read again and again (each question's words, each term's parts).
WORDS_CACHE_SIZE = 20_000
# A dictionary line `word frequency tag` of anything but a noun. Nouns are tagged common (n),
# names, places, organisations and other proper nouns (nr, ns, nt, nz …), verbal nouns (vn: 调休)
# and abbreviations (j: 交警).
_OTHER_ENTRY = re.compile(r"^(\S+) \d+ (?!n|vn\s|j\s)\S+\s*$", re.MULTILINE)
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"[0-9]+")


def _import_jieba() -> ModuleType:
    """jieba imports pkg_resources (a tenth of a second at every start) only to open its own
    files, and opens them by path without it: pkg_resources is kept out while jieba loads."""
    if "pkg_resources" in sys.modules:
        return importlib.import_module("jieba")
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import → ImportError
    try:
        return importlib.import_module("jieba")
    finally:
        del sys.modules["pkg_resources"]


jieba = _import_jieba()


def prefix_dictionary(path: Path) -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary for a dictionary file (`word count [tag]` lines): every word's
    count, every proper prefix of a word at 0 unless a word itself, and the counts' total.

    What jieba.Tokenizer.gen_pfdict builds (a sixth faster, and no slower than jieba loading the
    model cache it writes to the temp directory): a start needs no temp-dir cache, so a fresh
    machine starts as fast as one that has started before.
    """
    text = path.read_text(encoding="utf-8")
    fields = text.split()
    if len(fields) == 3 * len(text.splitlines()):  # every line `word count tag`: sliced in C
        numbers = list(map(int, fields[1::3]))
        counts = dict(zip(fields[0::3], numbers, strict=True))
        total = sum(numbers)
    else:
        counts, total = {}, 0
        for line in text.splitlines():
            word, count = line.strip().split(" ", 2)[:2]
            counts[word] = int(count)
            total += counts[word]  # as jieba counts: a word listed twice adds twice
    prefixes = {word[:end] for word in counts for end in range(1, len(word))}
    prefixes.difference_update(counts)
    counts.update(dict.fromkeys(prefixes, 0))
    return counts, total


class Tokenizer:
    """One private jieba instance (not jieba's global one), loaded once with the user dictionary."""

    def __init__(
        self,
        user_words: Iterable[tuple[str, int]],
        stopwords: frozenset[str] = frozenset(),
        dictionary_path: Path | None = None,
    ) -> None:
        self._stopwords = stopwords
        # jieba announces its dictionary loading at INFO; it says nothing a worker's log needs.
        logging.getLogger("jieba").setLevel(logging.WARNING)
        jieba.setLogLevel(logging.WARNING)
        if dictionary_path is None:
            self._jieba = jieba.Tokenizer()
            self._jieba.initialize()
        else:
            self._jieba = jieba.Tokenizer(str(dictionary_path))
            self._jieba.FREQ, self._jieba.total = prefix_dictionary(dictionary_path)
            self._jieba.initialized = True
        words = list(user_words)
        for word, frequency in words:
            self._jieba.add_word(word, freq=frequency)
        # What decides how a text is cut: a cached tokenisation is valid while this is the same.
        digest = hashlib.sha256(f"jieba {jieba.__version__}\n".encode())
        if dictionary_path is not None:
            # Its content, not its size: a changed count of the same width cuts texts anew.
            digest.update(hashlib.sha256(dictionary_path.read_bytes()).digest())
        digest.update("\n".join(f"{w} {f}" for w, f in words).encode())
        digest.update("\n".join(sorted(stopwords)).encode())
        digest.update(QUANTITY_PHRASE.pattern.encode())
        self.fingerprint = digest.hexdigest()
        self._words = functools.lru_cache(maxsize=WORDS_CACHE_SIZE)(
            lambda text: tuple(w for w in self._search_words(text) if self.is_content(w))
        )
        # The corrector, the query reader and the coverage reader each segment the same question.
        self._segment = functools.lru_cache(maxsize=SEGMENT_CACHE_SIZE)(self._cut)

    def _cut(self, text: str) -> tuple[tuple[str, int, int], ...]:
        """jieba's segmentation, quantities kept whole and made-up function-word pairs cut apart."""
        tokens = self._quantities_joined(text, list(self._jieba.tokenize(text)))
        return tuple(piece for token in tokens for piece in self._function_words_apart(token))

    def _function_words_apart(self, token: tuple[str, int, int]) -> list[tuple[str, int, int]]:
        """A word jieba's HMM made up of function words only (我能, 这是, 就让) is cut into them.

        Glued, they made a word no dictionary knows, which weighed as a rare term (a typo's or
        a dialect word's information) in a question that said nothing more by it. A made-up word
        with a content character (交着, 没签) is left whole: it may be a slip or a dialect form.
        """
        word, start, _end = token
        if (
            len(word) < 2
            or self._jieba.FREQ.get(word)
            or not _CJK_RUN.fullmatch(word)
            or not all(char in self._stopwords for char in word)
        ):
            return [token]
        return [(char, start + i, start + i + 1) for i, char in enumerate(word)]

    def _quantities_joined(
        self, text: str, tokens: list[tuple[str, int, int]]
    ) -> list[tuple[str, int, int]]:
        """jieba's segmentation with every amount or stretch of time kept as one word.

        jieba glues a unit to the word after it when the pair is a dictionary word (五个/月工资):
        the quantity is then re-cut as one word and the rest stands alone (五个月/工资). A word
        that starts with the quantity itself (一月份, 一天到晚) is jieba's to keep, and so is a
        cut whose rest would be a lone character (一/年级 is no 一年 + 级).
        """
        if QUANTITY_PHRASE.search(text) is None:
            return tokens
        starts = [start for _, start, _ in tokens]
        cut: list[tuple[str, int, int]] = []
        taken = 0  # tokens before this one are already in `cut`
        for found in QUANTITY_PHRASE.finditer(text):
            first = bisect_right(starts, found.start()) - 1
            last = bisect_right(starts, found.end() - 1) - 1
            if first < taken or starts[first] != found.start():
                continue
            _word, start, end = tokens[last]
            rest = text[found.end() : end]
            if rest and (start == found.start() or len(rest) < 2 or not self._jieba.FREQ.get(rest)):
                continue
            cut.extend(tokens[taken:first])
            cut.append((found.group(0), found.start(), found.end()))
            if rest:
                cut.append((rest, found.end(), end))
            taken = last + 1
        cut.extend(tokens[taken:])
        return cut

    def _search_words(self, text: str) -> Iterable[str]:
        """jieba's search mode on this segmentation: a long word's dictionary parts, then the
        word. A quantity's parts are its figure (2008 of 2008年) and a unit that is a word of its
        own (小时 of 12个小时: working hours are asked in 小时); 月 of 五个月 names no subject."""
        frequencies = self._jieba.FREQ
        for word, _start, _end in self._cut(text):
            quantity = QUANTITY_PHRASE.fullmatch(word)
            if quantity is not None:
                yield from _DIGITS.findall(word)
                if len(quantity["unit"]) > 1:
                    yield quantity["unit"]
            else:
                for size in (2, 3):
                    if len(word) > size:
                        for i in range(len(word) - size + 1):
                            if frequencies.get(word[i : i + size]):
                                yield word[i : i + size]
            yield word

    def is_content(self, word: str) -> bool:
        """Not a stopword, not punctuation or space."""
        return word not in self._stopwords and bool(
            _CJK_RUN.fullmatch(word)
            or _LATIN_OR_DIGIT.fullmatch(word)
            or QUANTITY_PHRASE.fullmatch(word)
        )

    def words(self, text: str) -> list[str]:
        """Search-mode words (long words and their parts), stopwords and punctuation removed."""
        return list(self._words(text))

    def segment(self, text: str) -> tuple[tuple[str, int, int], ...]:
        """jieba's default segmentation with offsets (one question asks it several times)."""
        return self._segment(text)

    def boundaries(self, text: str) -> set[int]:
        """Offsets where jieba's segmentation puts a word break (a phrase must not cut a word)."""
        edges = {0, len(text)}
        for _word, start, end in self.segment(text):
            edges.add(start)
            edges.add(end)
        return edges

    def main_words(self, text: str) -> list[str]:
        """Default-mode words only: one feature per word, for expanding a term without its parts."""
        return [word for word, _start, _end in self._cut(text) if self.is_content(word)]

    def features(self, text: str) -> list[str]:
        """Words plus CJK character bigrams: bigrams keep partial and mis-segmented words matchable.

        A bigram that is itself one of the words is left out, so a two-character word counts once.
        """
        features = self.words(text)
        words = set(features)
        for run in _CJK_RUN.findall(text):
            features.extend(
                "#" + run[i : i + 2]
                for i in range(len(run) - 1)
                if run[i : i + 2] not in words
                and (run[i] not in self._stopwords or run[i + 1] not in self._stopwords)
            )
        return features

    @functools.cached_property
    def other_than_nouns(self) -> frozenset[str]:
        """The dictionary's words tagged as anything but a noun (verbs, adverbs, pronouns …).

        The fewer side of the tags, held as the dictionary's own keys: a set of new strings for
        its 90,000 nouns would hold another 13 MB.
        """
        with self._jieba.get_dict_file() as dictionary:
            listed = set(_OTHER_ENTRY.findall(dictionary.read().decode("utf-8")))
        return frozenset(word for word in self.word_frequencies if word in listed)

    @property
    def word_frequencies(self) -> dict[str, int]:
        """jieba's dictionary frequencies, for telling a common word from a typo."""
        frequencies: dict[str, int] = self._jieba.FREQ
        return frequencies
