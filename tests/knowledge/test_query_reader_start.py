"""What the query reader leaves out of a start: no regex of every variant, no term cut in advance."""

from __future__ import annotations

import re

import pytest

from knowledge.lexicon import load_lexicon
from knowledge.match import Matcher
from knowledge.query import Expansions


def test_an_expansion_is_worked_out_on_first_use_and_kept() -> None:
    asked: list[str] = []

    def expand(term: str) -> tuple[str, ...]:
        asked.append(term)
        return (term[:2],)

    expansions = Expansions({"加班费", "工伤认定"}, expand)
    assert asked == []
    assert expansions["加班费"] == ("加班",)
    assert expansions["加班费"] == ("加班",)
    assert asked == ["加班费"]
    assert "工伤认定" in expansions and len(expansions) == 2
    assert expansions.get("不在词表里", ()) == ()
    with pytest.raises(KeyError):
        expansions["不在词表里"]


@pytest.mark.parametrize(
    "text",
    [
        "欠薪保证金交了没有",
        "老板欠薪半年了",
        "农民工办事处在哪里",
        "去农民工办反映情况",
        "讨薪被打了",
    ],
)
def test_the_longest_variant_at_each_break_is_the_one_a_regex_alternation_found(
    library_matcher: Matcher, text: str
) -> None:
    # The alternation the reader used to compile, longest variants first: the reference.
    synonyms = dict(load_lexicon().synonyms)
    alternation = re.compile(
        "|".join(re.escape(v) for v in sorted(synonyms, key=len, reverse=True))
    )
    reader = library_matcher._query
    for start in range(len(text) + 1):
        found = alternation.match(text, start)
        assert reader._longest_variant_at(text, start) == (found.group(0) if found else None)


def test_a_variant_is_found_where_it_starts_and_ends_at_word_breaks(
    library_matcher: Matcher,
) -> None:
    # 欠薪保证金 (the wage deposit) is read whole, as the deposit.
    _features, spans = library_matcher._query.read("欠薪保证金交了没有")
    assert (0, 5, "工资保证金") in spans
