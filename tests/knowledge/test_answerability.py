"""Answer or fall back, on the whole library: the evidence an answer needs (phrasings written for
these tests, not taken from any dev set)."""

from __future__ import annotations

from knowledge.match import FallbackReason, Matcher, Verdict


def test_a_clause_that_only_lists_an_uncovered_domain_does_not_answer_it(
    library_matcher: Matcher,
) -> None:
    # The residence-permit regulation names 住房公积金 among its services; it sets no loan rates.
    result = library_matcher.match("住房公积金贷款利率是多少")
    assert result.verdict == Verdict.FALLBACK
    assert result.fallback_reason == FallbackReason.OFF_TOPIC


def test_a_commute_accident_with_an_everyday_word_is_still_answered(
    library_matcher: Matcher,
) -> None:
    result = library_matcher.match("坐地铁下班路上被电动车撞了算工伤吗")
    assert result.best is not None
    assert result.best.entry.key == ("work-injury-insurance-regulation-2010", "art14")
