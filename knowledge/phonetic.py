"""Sound-alike correction: phone keyboards type by pinyin, so typos are homophones (工商→工伤).

The vocabulary (the lexicon's terms and the curated phrases) is indexed by toneless pinyin when the
index is built; a question's windows are looked up by the same key. A window is replaced only when
it shares at least one character with the term and differs in at most half of them, so a real word
that happens to sound like a term is left alone, and so is a negation (不交 is not a slip for 补交).
Runs of Latin letters are read as pinyin too (`luohu` → 落户).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from knowledge.numerals import QUANTITY_PHRASE

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_LATIN_RUN = re.compile(r"[a-z]+(?: [a-z]+)*")
MAX_TERM_CHARS = 6
COMMON_WORD_FREQUENCY = 100
# Negation before a verb is ordinary Chinese (不交, 没签, 未缴): a correction that takes a negation
# away (不交 → 补交) or puts one in (补签 → 不签) turns what the worker said into its opposite.
NEGATIONS = frozenset("不没未别")


def split_pinyin(letters: str, syllables: frozenset[str]) -> tuple[str, ...] | None:
    """`luohu` → ("luo", "hu"); None unless the whole string is pinyin. Prefers fewer syllables."""
    best: list[tuple[str, ...] | None] = [None] * (len(letters) + 1)
    best[0] = ()
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            if head is not None and letters[start:end] in syllables:
                candidate = (*head, letters[start:end])
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(letters)]


class PhoneticCorrector:
    """Replaces homophone typos and typed pinyin with the vocabulary's terms."""

    def __init__(
        self,
        vocabulary: Iterable[str],
        *,
        readings: Mapping[str, str],
        common_words: Mapping[str, int],
        segment: Callable[[str], Iterable[tuple[str, int, int]]],
        function_words: frozenset[str] = frozenset(),
    ) -> None:
        # A window that is itself a common word (事业, 工商) was meant as typed, and so was one that
        # would cut a common word in two (上半 in 上半年, 保障方 in 保障方面).
        self._common_words = common_words
        self._segment = segment
        # 死了 is not a slip for 私了: a two-character window that shares only a particle with a
        # term shares nothing that matters.
        self._function_words = function_words
        # Each character's everyday toneless reading: reading characters one by one (not by
        # phrase) keeps a term's key and a typo's key comparable, and the hot path cheap.
        self._readings = readings
        self._syllables = frozenset(readings.values())
        terms = sorted(set(vocabulary))
        self._terms_by_sound: dict[tuple[str, ...], list[str]] = {}
        for term in terms:
            if 2 <= len(term) <= MAX_TERM_CHARS and _CJK_RUN.fullmatch(term):
                self._terms_by_sound.setdefault(self._sounds(term), []).append(term)
        self._max_term_chars = max((len(key) for key in self._terms_by_sound), default=0)
        # English words the lexicon knows (pension, salary) are meant as typed, even when their
        # letters happen to spell pinyin (pen-si-o-n).
        self._latin_words = frozenset(
            word for term in terms for word in term.split() if word.isascii()
        )

    def _sounds(self, text: str) -> tuple[str, ...]:
        # A character without a reading (rare CJK) gets itself: it can then match only itself.
        return tuple(self._readings.get(char, char) for char in text)

    def correct(self, text: str) -> str:
        """The text with sound-alike windows replaced by vocabulary terms."""
        text = _LATIN_RUN.sub(self._latin_to_terms, text)
        return _CJK_RUN.sub(self._correct_run, text)

    def _latin_to_terms(self, match: re.Match[str]) -> str:
        """Pinyin words (`luohu`, `luo hu`) inside a Latin run become terms; English stays."""
        sounds: list[str] = []
        for word in match.group(0).split(" "):
            if word in self._latin_words:
                return match.group(0)
            split = split_pinyin(word, self._syllables)
            if split is None:  # an English word: keep the run as typed
                return match.group(0)
            sounds.extend(split)
        pieces: list[str] = []
        found = False
        position = 0
        while position < len(sounds):
            for length in range(min(MAX_TERM_CHARS, len(sounds) - position), 1, -1):
                terms = self._terms_by_sound.get(tuple(sounds[position : position + length]))
                if terms:
                    pieces.append(terms[0])
                    found = True
                    position += length
                    break
            else:
                pieces.append(sounds[position])
                position += 1
        # Letters that spell pinyin but no term (non, pension) were English: keep them as typed.
        return " ".join(pieces) if found else match.group(0)

    def _correct_run(self, match: re.Match[str]) -> str:
        run = match.group(0)
        if len(run) < 2:
            return run
        sounds = self._sounds(run)
        common_spans: list[tuple[int, int]] | None = None  # segmented only when a typo is possible
        pieces: list[str] = []
        position = 0
        while position < len(run):
            replacement, common_spans = self._best_term_at(run, sounds, position, common_spans)
            if replacement is None:
                pieces.append(run[position])
                position += 1
            else:
                pieces.append(replacement)
                position += len(replacement)
        return "".join(pieces)

    def _is_common(self, word: str) -> bool:
        return self._common_words.get(word, 0) >= COMMON_WORD_FREQUENCY

    def _common_spans(self, run: str) -> list[tuple[int, int]]:
        """Words of the dictionary, however rare (正式工), and quantities (三个月, which the
        dictionary lists as 三个 and 月): a correction must not cut one."""
        return [
            (start, end)
            for word, start, end in self._segment(run)
            if end - start >= 2
            and (self._common_words.get(word, 0) > 0 or QUANTITY_PHRASE.fullmatch(word))
        ]

    def _best_term_at(
        self,
        run: str,
        sounds: tuple[str, ...],
        position: int,
        common_spans: list[tuple[int, int]] | None,
    ) -> tuple[str | None, list[tuple[int, int]] | None]:
        """The term starting at `position` (longest first), and the spans computed so far."""
        for length in range(min(self._max_term_chars, len(run) - position), 1, -1):
            terms = self._terms_by_sound.get(sounds[position : position + length])
            if not terms:
                continue
            window = run[position : position + length]
            if window in terms:
                return window, common_spans
            if self._is_common(window):
                continue
            if common_spans is None:
                common_spans = self._common_spans(run)
            end = position + length
            if any(s < position < e or s < end < e for s, e in common_spans):
                continue
            for term in terms:
                shared = [a for a, b in zip(term, window, strict=True) if a == b]
                differing = length - len(shared)
                if length == 2 and all(char in self._function_words for char in shared):
                    continue
                if any(
                    a != b and (a in NEGATIONS or b in NEGATIONS)
                    for a, b in zip(term, window, strict=True)
                ):
                    continue
                if differing < length and differing * 2 <= length:
                    return term, common_spans
        return None, common_spans
