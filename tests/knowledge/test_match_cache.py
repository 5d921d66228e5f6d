"""Recent results are kept per matcher: the same question is answered without the engine, and a
new matcher (a curator's change) starts from nothing."""

from __future__ import annotations

import pytest

from knowledge.match import Matcher, MatchResult
from knowledge.match_cache import MatchCache

QUESTION = "老板欠了三个月工资怎么办"


def results_only() -> MatchCache[None]:
    return MatchCache(lambda _result: None)


def test_a_repeated_question_gets_the_kept_result(plan_matcher: Matcher) -> None:
    cache = results_only()
    first = cache.match(plan_matcher, QUESTION)
    assert cache.match(plan_matcher, QUESTION) is first
    assert first[0] == plan_matcher.match(QUESTION)


def test_what_is_made_of_a_result_is_kept_beside_it(plan_matcher: Matcher) -> None:
    made: list[MatchResult] = []

    def derive(result: MatchResult) -> str:
        made.append(result)
        return result.verdict.value

    cache = MatchCache(derive)
    result, verdict = cache.match(plan_matcher, QUESTION)
    assert cache.match(plan_matcher, QUESTION) == (result, verdict)
    assert made == [result] and verdict == result.verdict.value


def test_a_new_matcher_starts_from_nothing(plan_matcher: Matcher, library_matcher: Matcher) -> None:
    cache = results_only()
    from_plan = cache.match(plan_matcher, QUESTION)
    from_library = cache.match(library_matcher, QUESTION)
    assert from_library is not from_plan
    assert from_library[0] == library_matcher.match(QUESTION)
    assert cache.match(plan_matcher, QUESTION) is not from_plan


def test_the_least_recently_asked_goes_first(plan_matcher: Matcher) -> None:
    cache = MatchCache(lambda _result: None, size=2)
    kept = cache.match(plan_matcher, "公租房怎么申请")
    points = cache.match(plan_matcher, "积分落户要多少分")
    assert cache.match(plan_matcher, "公租房怎么申请") is kept  # now the most recent
    cache.match(plan_matcher, "孩子能上公办小学吗")  # pushes out 积分落户
    assert cache.match(plan_matcher, "公租房怎么申请") is kept
    assert cache.match(plan_matcher, "积分落户要多少分") is not points
    with pytest.raises(ValueError):
        MatchCache(lambda _result: None, size=0)
