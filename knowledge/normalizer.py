"""Text normalisation: what a worker types on a phone → one canonical simplified form."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

import opencc

# Longest question the matcher reads; a longer story keeps its start, where people say what happened.
MAX_QUESTION_CHARS = 600
# Distinct texts whose Simplified form is remembered (a few hundred KB at most).
SIMPLIFIED_CACHE_SIZE = 4096

# Northern and Tianjin spoken words → the standard words the plan and the lexicon use.
DIALECT_WORDS: tuple[tuple[str, str], ...] = (
    ("木有", "没有"),
    ("没得", "没有"),
    ("俺们", "我们"),
    ("咱们", "我们"),
    ("俺", "我"),
    ("咱", "我们"),
    ("啥子", "什么"),
    ("嘛事", "什么事"),
    ("有嘛", "有什么"),
    ("干嘛", "干什么"),
    ("是嘛", "是什么"),
    ("咋整", "怎么办"),
    ("咋办", "怎么办"),
    ("咋弄", "怎么办"),
    ("咋个", "怎么"),
    ("咋", "怎么"),
    ("啥", "什么"),
    ("甭", "不用"),
    ("晓得", "知道"),
    ("中不中", "行不行"),
    # Cantonese, as typed by workers from Guangdong and Guangxi
    ("唔俾", "不给"),
    ("冇", "没有"),
    ("唔", "不"),
    ("俾", "给"),
    ("老细", "老板"),
    ("点算", "怎么办"),
    ("喺", "在"),
    ("嘅", "的"),
    ("咗", "了"),
    ("出粮", "发工资"),
    ("不给人工", "不给工资"),
    ("没有人工", "没有工资"),
)

_SPACES = re.compile(r"\s+")
_REPEATED_PUNCT = re.compile(r"([^\w\s])\1+")


def _is_dropped(char: str) -> bool:
    """Control, format (RTL marks, zero-width) and symbol characters such as emoji carry no meaning here."""
    category = unicodedata.category(char)
    if category in {"Cc", "Cf", "Cs", "Co", "Cn", "So", "Sk"}:
        return not char.isspace()
    return False


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A question in canonical form, and whether the worker wrote Traditional characters."""

    text: str
    is_traditional: bool


class ScriptConverter:
    """Traditional ⇄ Simplified with OpenCC; built once, reused on every message."""

    def __init__(self) -> None:
        converter = opencc.OpenCC("t2s")
        # Every message is converted at least twice (script check, normaliser), and the same
        # short questions come again and again: remembered, not converted each time.
        self._simplified = functools.lru_cache(maxsize=SIMPLIFIED_CACHE_SIZE)(converter.convert)

    @cached_property
    def _to_traditional(self) -> opencc.OpenCC:
        # Its phrase tables take ~30 MB: loaded when the first Traditional reply is written.
        return opencc.OpenCC("s2tw")

    def to_simplified(self, text: str) -> str:
        return str(self._simplified(text))

    def to_traditional(self, text: str) -> str:
        return str(self._to_traditional.convert(text))

    def is_traditional(self, text: str) -> bool:
        """True when converting to Simplified changes enough characters to be a choice, not a slip."""
        simplified = self.to_simplified(text)
        changed = sum(1 for a, b in zip(text, simplified, strict=False) if a != b)
        return changed >= 2 or (changed == 1 and len(text) <= 8)


class Normalizer:
    """NFKC width folding, emoji and control removal, Traditional → Simplified, dialect words."""

    def __init__(self, converter: ScriptConverter) -> None:
        self._converter = converter

    def normalize(self, raw: str) -> NormalizedText:
        text = unicodedata.normalize("NFKC", raw[: MAX_QUESTION_CHARS * 2])
        text = "".join(" " if _is_dropped(char) else char for char in text)
        text = _SPACES.sub(" ", text).strip()[:MAX_QUESTION_CHARS]
        is_traditional = self._converter.is_traditional(text)
        text = self._converter.to_simplified(text).lower()
        text = _REPEATED_PUNCT.sub(r"\1", text)
        for spoken, standard in DIALECT_WORDS:
            text = text.replace(spoken, standard)
        return NormalizedText(text=text, is_traditional=is_traditional)
