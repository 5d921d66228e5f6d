"""A curated phrase typed with a slip is spotted, but not where the asker's own grammar differs."""

from __future__ import annotations

from knowledge.match import Matcher


def test_a_function_word_where_the_phrase_has_another_is_no_slip(library_matcher: Matcher) -> None:
    # 能领养老金 is one character from 冒领养老金, but 能 is how the question asks, not a typo.
    assert "冒领" not in library_matcher.query_features("退休以后能领养老金吗")


def test_the_phrase_itself_is_still_found(library_matcher: Matcher) -> None:
    assert "冒领" in library_matcher.query_features("有人冒领养老金怎么罚")


def test_a_function_word_added_between_the_phrases_characters_is_only_grammar(
    library_matcher: Matcher,
) -> None:
    # 年假有几天 is 年假几天 said with 有: the days (带薪年休假条例 第三条) answer it.
    ranked = library_matcher.match("年假有几天").ranked
    assert ranked[0].entry.key == ("paid-annual-leave-regulation-2007", "art3")
