"""The domain lexicon: workers' words mapped onto the plan's terms, and the jieba user dictionary."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType

# Function words and question words: they say how someone asks, not what about.
STOPWORDS: frozenset[str] = frozenset(
    """
    的 了 吗 吧 呢 啊 呀 哈 嘛 么 嘞 哦 噢 嗯 呗 哇 喔 咧 滴 得 地 着 过 和 与 及 或 跟 同 把 被 给 让 对 向
    在 从 到 于 为 以 之 而 且 也 都 就 还 又 才 再 很 太 更 最 挺 蛮 真 好 是 不 没 有 无 要 会 能 可 可以 能否
    我 你 他 她 它 我们 你们 他们 她们 咱们 自己 人家 大家 这 那 这个 那个 这些 那些 这样 那样 这种 那种 这边 那边
    什么 怎么 怎样 怎么样 怎么办 如何 哪 哪里 哪儿 哪个 哪些 多少 几 为什么 是不是 有没有 能不能 可不可以 行不行
    请问 您好 你好 谢谢 麻烦 问问 问一下 想问 想问问 请 一下 一些 一点 一个 个 些 点 下 上 里 中 后 前 时候 现在
    知道 觉得 听说 说 讲 看 想 问 行 事 事情 情况 问题 方面 东西 时 等 等等 及其 其 并 如果 要是 万一 因为 所以 但是
    可是 然后 已经 一直 还是 还有 另外 以及 或者 还能 能够 需要 应该 可能 具体 相关 有关 一般 主要 其他 其它 这里
    谁 啥 咋 俺 咱 嘛事 干啥 没有 不是 不能 不会 就是 只是 只有 一样 一起 一块 了解 告诉 帮 帮忙 一 二 三 个人
    """.split()
)



@dataclass(frozen=True, slots=True)
class Lexicon:
    """Workers' variants → canonical terms, and the words jieba must keep whole."""

    synonyms: Mapping[str, str]
    user_words: tuple[tuple[str, int], ...]
    # Regular expressions for what a word list can't enumerate (摔断了腿, 压伤了手 → 工伤).
    patterns: tuple[tuple[re.Pattern[str], str], ...] = ()

    @property
    def canonical_terms(self) -> frozenset[str]:
        return frozenset(self.synonyms.values())


def parse_synonyms(data: Mapping[str, object]) -> dict[str, str]:
    """`[terms] canonical = [variants]` → {variant: canonical}; canonical terms map to themselves."""
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


def load_lexicon(
    synonyms_path: Path | None = None, user_dictionary_path: Path | None = None
) -> Lexicon:
    """The bundled lexicon unless other files are given."""
    synonyms_path = synonyms_path or bundled_data_path("synonyms.toml")
    user_dictionary_path = user_dictionary_path or bundled_data_path("userdict.txt")
    data = tomllib.loads(synonyms_path.read_text(encoding="utf-8"))
    user_words = parse_user_dictionary(
        user_dictionary_path.read_text(encoding="utf-8").splitlines()
    )
    return Lexicon(
        synonyms=MappingProxyType(parse_synonyms(data)),
        user_words=user_words,
        patterns=parse_patterns(data),
    )
