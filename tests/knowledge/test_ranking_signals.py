"""Principled ranking and handoff behaviours on the whole library (phrasings written for these
tests): a sanction yields to the duty it enforces, a clause that gives the kind of thing asked
ranks first, and what-ifs, general questions and ongoing lacks are told apart for the handoff."""

from __future__ import annotations

import pytest

from knowledge.handoff import is_handoff
from knowledge.match import Matcher
from knowledge.normalizer import Normalizer, ScriptConverter
from knowledge.signals import load_signals

CONTRACT_LAW = "labor-contract-law-2012"
ARBITRATION_LAW = "labor-dispute-mediation-arbitration-law-2007"
WORK_INJURY = "work-injury-insurance-regulation-2010"

_signals = load_signals()
_normalizer = Normalizer(ScriptConverter())


def first(matcher: Matcher, question: str) -> tuple[str, str]:
    result = matcher.match(question)
    assert result.ranked, result.fallback_reason
    return result.ranked[0].entry.key


def cited(matcher: Matcher, question: str) -> list[tuple[str, str]]:
    return [ranked.entry.key for ranked in matcher.match(question).ranked]


def test_the_duty_answers_before_the_sanction_that_restates_it(library_matcher: Matcher) -> None:
    # 第九条 forbids keeping a worker's ID; 第八十四条 (法律责任) punishes it in nearly the same words.
    assert first(library_matcher, "用人单位能不能扣着工人的身份证不还") == (CONTRACT_LAW, "art9")


def test_asking_words_do_not_match_as_the_subject(library_matcher: Matcher) -> None:
    # 合法 says the worker asks whether it is allowed; 就业促进法 第四十一条 only shares it as
    # 合法权益. The employer's duty not to keep ID cards is the answer, not the agency's.
    assert first(library_matcher, "单位把我的身份证押着不还 合法吗") == (CONTRACT_LAW, "art9")


def test_the_time_limit_for_arbitration_is_found_in_either_word_order(
    library_matcher: Matcher,
) -> None:
    # 第二十七条's one-year limit, not 劳动法 第八十二条's older sixty days.
    assert first(library_matcher, "劳动仲裁得在多久以内提出申请") == (ARBITRATION_LAW, "art27")


def test_a_question_on_the_penalty_may_lead_with_the_sanction(library_matcher: Matcher) -> None:
    question = "用人单位扣押劳动者身份证会受到什么处罚"
    assert (CONTRACT_LAW, "art84") in cited(library_matcher, question)[:3]


def test_asking_what_one_may_claim_brings_the_sanction_beside_the_duty(
    library_matcher: Matcher,
) -> None:
    # 第十条 says a written contract is due; what a worker without one may claim (二倍工资) is
    # 第八十二条 in the sanctions chapter: asked for, it stands beside the duty.
    question = "上班三个月了单位一直没签合同 我可以要什么"
    assert (CONTRACT_LAW, "art82") in cited(library_matcher, question)[:2]


def test_sanction_chapters_are_found_by_their_heading(library_matcher: Matcher) -> None:
    heading = _signals.shapes.sanction_heading
    sanctions = {e.key for e in library_matcher.entries if heading.search(e.context)}
    assert (CONTRACT_LAW, "art84") in sanctions
    assert (CONTRACT_LAW, "art9") not in sanctions


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("申请仲裁最晚要在多长时间内提出", "duration"),
        ("延长工作时间的工资按几倍发", "amount"),
        ("单位不给报工伤我该去哪申请", "recourse"),
        ("领失业金要符合什么条件", "conditions"),
        ("办居住证要带什么材料", "materials"),
    ],
)
def test_what_a_question_asks_for_is_read(question: str, kind: str) -> None:
    asked = {k.name for k in _signals.shapes.answer_kinds if k.asks.search(question)}
    assert kind in asked


def test_a_time_limit_is_read_in_an_article() -> None:
    duration = next(k for k in _signals.shapes.answer_kinds if k.name == "duration")
    assert duration.answers.search("劳动争议申请仲裁的时效期间为一年")
    assert not duration.answers.search("劳动争议仲裁不收费")


def test_asking_how_long_ranks_the_article_with_the_time_limit(library_matcher: Matcher) -> None:
    assert first(library_matcher, "工伤认定申请要在多长时间内提出") == (WORK_INJURY, "art17")
    assert first(library_matcher, "被辞退以后多久之内要去申请仲裁") == (ARBITRATION_LAW, "art27")


def handoff(text: str) -> bool:
    return is_handoff(_normalizer.normalize(text).text, _signals.handoff)


@pytest.mark.parametrize(
    "text",
    [
        "进厂两个月了还没签劳动合同",
        "包工头跑路了，我们仨月的工钱没着落",
        "在厂里干了半年，一直没签劳动合同",
    ],
)
def test_ongoing_lacks_and_a_vanished_boss_are_own_disputes(text: str) -> None:
    assert handoff(text)


@pytest.mark.parametrize(
    "text",
    [
        "我想申请法律援助的话要准备什么",
        "没签合同的人能进工地干活吗",
        "我的工伤保险是不是要从工资里扣",
        "健身房老板跑路了，我的会员费能要回来吗",
    ],
)
def test_what_ifs_rule_questions_and_other_debts_are_not(text: str) -> None:
    assert not handoff(text)


@pytest.mark.parametrize(
    "text",
    [
        "干了半年了 合同一直木签 俺能要双倍工资不",
        "仲裁快过期了 法援那边审批还没下来",
    ],
)
def test_dialect_negation_and_stalled_legal_aid_are_own_disputes(text: str) -> None:
    assert handoff(text)


@pytest.mark.parametrize(
    "text",
    [
        "申请了法律援助，审查要几天",
        "我们公司招人必须签合同吗？没签能上岗吗",
        "我想从厂里辞职，能直接走人吗",
    ],
)
def test_a_procedure_going_on_a_rule_question_or_a_resignation_is_not(text: str) -> None:
    assert not handoff(text)
