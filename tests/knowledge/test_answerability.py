"""Answer or fall back, on the whole library: the evidence an answer needs (phrasings written for
these tests, not taken from any dev set)."""

from __future__ import annotations

import re

import pytest

from knowledge.answerability import Evidence, is_unanswered_elsewhere, lacks_evidence
from knowledge.coverage import ContentReader
from knowledge.match import FallbackReason, Matcher, Verdict
from knowledge.scope import ScopeCheck
from knowledge.tokenizer import Tokenizer


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


@pytest.mark.parametrize(
    "question", ["怎么判断西瓜熟没熟", "快手上怎么涨粉丝", "周末带孩子去动物园门票多少钱"]
)
def test_a_question_mostly_in_words_the_library_never_uses_falls_back(
    library_matcher: Matcher, question: str
) -> None:
    result = library_matcher.match(question)
    assert result.verdict == Verdict.FALLBACK
    assert result.fallback_reason == FallbackReason.NO_MATCH


def test_a_work_question_keeps_its_particulars(library_matcher: Matcher) -> None:
    # 电动车 and 轿车 are foreign to the library; 下班路上 and 工伤 are what it is about.
    result = library_matcher.match("骑电动车下班路上被轿车撞了算工伤吗")
    assert result.best is not None
    assert result.best.entry.key == ("work-injury-insurance-regulation-2010", "art14")


def test_foreign_words_are_nouns_the_library_never_explains() -> None:
    reader = ContentReader(Tokenizer([], frozenset()), asker=re.compile("我家|老伴"))
    content = reader.read("我家老伴买的西瓜不好吃", [], {})
    # 西瓜 is a noun no clause uses; 好吃 is how it is said; 我家 and 老伴 say who asks.
    assert content.foreign(frozenset({"买"})) == pytest.approx(reader.information("西瓜"))


def evidence(*, coverage: float, foreign: float, at_work: bool = False) -> Evidence:
    return Evidence(
        score=20.0,
        coverage=coverage,
        information=10.0,
        foreign=foreign,
        is_about_work=at_work,
        rare_word_score=6.0,
    )


def test_more_foreign_than_explained_lacks_evidence_unless_told_at_work() -> None:
    # The best clause explains 4 of 10; 5 are in nouns no clause of the library explains.
    assert lacks_evidence(evidence(coverage=0.4, foreign=5.0))
    assert not lacks_evidence(evidence(coverage=0.4, foreign=5.0, at_work=True))
    assert not lacks_evidence(evidence(coverage=0.4, foreign=3.0))


def test_a_clause_that_speaks_of_an_uncovered_domain_must_also_explain_the_question() -> None:
    scope = ScopeCheck(other_region=None, is_off_topic=False, off_domain=("公积金",))
    said = frozenset({"公积金", "居住证"})
    assert is_unanswered_elsewhere(scope, evidence(coverage=0.4, foreign=0.0), said)
    assert not is_unanswered_elsewhere(scope, evidence(coverage=0.8, foreign=0.0), said)
    assert is_unanswered_elsewhere(
        scope, evidence(coverage=0.8, foreign=0.0), frozenset({"居住证"})
    )


@pytest.mark.parametrize(
    "question", ["朋友问我借钱我该不该借", "我家鹦鹉病了要不要紧", "老家亲戚结婚随多少礼合适"]
)
def test_a_weak_match_on_an_ordinary_word_or_two_falls_back(
    library_matcher: Matcher, question: str
) -> None:
    result = library_matcher.match(question)
    assert result.verdict == Verdict.FALLBACK
    assert result.fallback_reason == FallbackReason.NO_MATCH


def weak(*, coverage: float, information: float) -> Evidence:
    return Evidence(
        score=6.0,
        coverage=coverage,
        information=information,
        foreign=0.0,
        is_about_work=False,
        rare_word_score=6.0,
    )


def test_a_weak_match_answers_only_when_it_explains_several_words_or_nearly_all() -> None:
    # 2 of 5 explained: a shared word or two. 6 of 15: the law's own words for a long question.
    assert lacks_evidence(weak(coverage=0.4, information=5.0))
    assert not lacks_evidence(weak(coverage=0.4, information=15.0))
    # A short question on one matter, all of it explained.
    assert not lacks_evidence(weak(coverage=0.9, information=2.0))
    # The same small share with a strong match is answered.
    assert not lacks_evidence(evidence(coverage=0.4, foreign=0.0))


def test_the_weak_match_floor_is_counted_in_rare_words_of_the_index() -> None:
    # BM25 6 is one rare word where such a word weighs 6, two where it weighs 3 (a small index).
    assert lacks_evidence(weak(coverage=0.4, information=5.0))
    smaller = Evidence(
        score=6.0,
        coverage=0.4,
        information=5.0,
        foreign=0.0,
        is_about_work=False,
        rare_word_score=3.0,
    )
    assert not lacks_evidence(smaller)


def test_a_question_in_pinyin_is_not_judged_by_the_weak_match_floor() -> None:
    spelled = Evidence(
        score=6.0,
        coverage=0.4,
        information=5.0,
        foreign=0.0,
        is_about_work=False,
        rare_word_score=6.0,
        is_spelled_out=True,
    )
    assert not lacks_evidence(spelled)


def test_a_question_about_work_is_not_judged_by_the_weak_match_floor() -> None:
    at_work = Evidence(
        score=6.0,
        coverage=0.4,
        information=5.0,
        foreign=0.0,
        is_about_work=True,
        rare_word_score=6.0,
    )
    assert not lacks_evidence(at_work)
