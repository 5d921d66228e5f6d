"""jieba tokenisation with the domain's user dictionary, into the features the index scores."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Iterable
from pathlib import Path

import jieba

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
        self._jieba = (
            jieba.Tokenizer(str(dictionary_path)) if dictionary_path else jieba.Tokenizer()
        )
        self._jieba.initialize()
        words = list(user_words)
        for word, frequency in words:
            self._jieba.add_word(word, freq=frequency)
        # What decides how a text is cut: a cached tokenisation is valid while this is the same.
        digest = hashlib.sha256(f"jieba {jieba.__version__}\n".encode())
        if dictionary_path is not None:
            stat = dictionary_path.stat()
            digest.update(f"{dictionary_path.name} {stat.st_size}\n".encode())
        digest.update("\n".join(f"{w} {f}" for w, f in words).encode())
        digest.update("\n".join(sorted(stopwords)).encode())
        self.fingerprint = digest.hexdigest()
        self._words = functools.lru_cache(maxsize=WORDS_CACHE_SIZE)(
            lambda text: tuple(w for w in self._jieba.cut_for_search(text) if self.is_content(w))
        )
        # The corrector, the query reader and the coverage reader each segment the same question.
        self._segment = functools.lru_cache(maxsize=SEGMENT_CACHE_SIZE)(
            lambda text: tuple(self._jieba.tokenize(text))
        )

    def is_content(self, word: str) -> bool:
        """Not a stopword, not punctuation or space."""
        return word not in self._stopwords and bool(
            _CJK_RUN.fullmatch(word) or _LATIN_OR_DIGIT.fullmatch(word)
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
        return [word for word in self._jieba.cut(text) if self.is_content(word)]

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
