"""Matching on the bundled plan: representative phrasings of every topic, written for these tests
(not the dev set's), plus out-of-scope, handoff and bad input."""

from __future__ import annotations

import pytest

from knowledge.match import FallbackReason, Matcher, Verdict
from tests.conftest import PLAN

# (question, clauses that would be a correct first citation)
PHRASINGS: list[tuple[str, set[str]]] = [
    # employment
    ("厂里效益不好，听说政府给企业发稳岗的钱，能稳住我们的饭碗吗", {"2.1.1"}),
    ("我们县想打造自己的劳务品牌，带大家出去打工，有这政策吗", {"2.1.2"}),
    ("户口不在天津，在这边失业了能去登记领服务吗", {"2.1.3"}),
    ("开春以后哪里有招工的招聘会", {"2.1.4"}),
    ("想回老家开个小超市，能贷到创业贷款吗", {"2.1.5"}),
    ("就业方面这个方案都有哪些措施，概括一下", {"2.1"}),
    # skills
    ("哪些工种缺人，有没有公布的目录", {"2.2.1"}),
    ("去技校学电工有没有培训补贴", {"2.2.2", "2.2.1"}),
    ("种地的想学点大棚技术，农广校能教吗", {"2.2.3"}),
    ("津建裕农的网课讲什么", {"2.2.4"}),
    # rights and insurance
    ("干了三个月了还没签劳动合同，这正常吗", {"2.3.1"}),
    ("劳务派遣公司把我们派到厂里干活，有人监管吗", {"2.3.1"}),
    ("在工地受了伤，回老家后工伤待遇还能领吗", {"2.3.2"}),
    ("社保能从天津转回老家吗", {"2.3.2"}),
    ("欠薪的案子去仲裁要等多久", {"2.3.3"}),
    ("跑外卖的算不算劳动者，权益谁来管", {"2.3.3"}),
    ("工会的律师能免费帮忙吗", {"2.3.4"}),
    # public services, housing, schooling, settlement
    ("外地人在天津能享受哪些基本公共服务", {"2.4.1", "1"}),
    ("落户人多的区市里会多给钱吗", {"2.4.2"}),
    ("有没有便宜的保障性租赁住房给打工的住", {"2.4.3"}),
    ("保租房的电费按什么价", {"2.4.3"}),
    ("孩子跟着我们来天津，能进公立小学吗", {"2.4.4"}),
    ("有普惠幼儿园吗 私立的太贵", {"2.4.4"}),
    ("办了居住证以后能积分入户吗", {"2.4.5"}),
    # grassroots services and the campaign
    ("街道有专门给农民工办事的窗口吗", {"2.5.2"}),
    ("政府怎么掌握我们农民工就业培训的情况", {"2.5.3"}),
    ("过年前后有没有给农民工的暖心服务", {"2.5.4"}),
    # about the plan
    ("这个文件是哪个部门什么时候发的", {"0"}),
    ("这次行动的总目标是啥", {"1"}),
    ("各区的实施方案什么时候报上去", {"3.2"}),
    # styles: Traditional, typos, pinyin, dialect, English
    ("請問隨遷子女怎麼在天津上公辦學校", {"2.4.4"}),
    ("工商保险回老家还能报销吗", {"2.3.2"}),
    ("zai tianjin neng luohu ma", {"2.4.5"}),
    ("俺想学个手艺 有补贴木有", {"2.2.2", "2.2.1"}),
    ("boss不发salary怎么办", {"2.3.3"}),
    # words that sit inside other words, and everyday words that must not lead
    ("天津哪里有专门给农民工办事的地方 我在东丽", {"2.5.2"}),
    ("春节回家前能不能把工资结清，老板说过完年再给", {"2.3.3"}),
    ("俺闺女今年六岁 户口在河南 能在天津上一年级不", {"2.4.4"}),
    ("wo xiang luohu tianjin", {"2.4.5"}),
    ("这个方案是2023年几月发的", {"0"}),
    ("我喺工地做嘢 老細唔俾人工 點算", {"2.3.4", "2.3.3"}),
]


@pytest.mark.parametrize(("question", "clauses"), PHRASINGS)
def test_phrasing_finds_its_clause(plan_matcher: Matcher, question: str, clauses: set[str]) -> None:
    result = plan_matcher.match(question)
    assert result.best is not None, result.fallback_reason
    assert result.best.entry.clause.id in clauses, [r.entry.clause.id for r in result.ranked]


def test_accuracy_over_all_phrasings(plan_matcher: Matcher) -> None:
    hits = sum(
        1
        for question, clauses in PHRASINGS
        if (best := plan_matcher.match(question).best) is not None
        and best.entry.clause.id in clauses
    )
    assert hits / len(PHRASINGS) >= 0.9


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("广州的公租房怎么申请", FallbackReason.OTHER_REGION),
        ("后天天津下雪吗 工地停不停工", FallbackReason.OFF_TOPIC),
        ("买哪只基金好", FallbackReason.OFF_TOPIC),
        ("qwertyuiop", FallbackReason.NO_MATCH),
        ("哈哈哈哈哈", FallbackReason.NO_MATCH),
    ],
)
def test_out_of_scope_falls_back_and_cites_nothing(
    plan_matcher: Matcher, question: str, reason: FallbackReason
) -> None:
    result = plan_matcher.match(question)
    assert result.verdict == Verdict.FALLBACK and result.best is None
    assert result.fallback_reason == reason


def test_a_policy_question_with_an_everyday_word_is_still_answered(plan_matcher: Matcher) -> None:
    result = plan_matcher.match("下雨天送外卖摔伤了算工伤吗，能报工伤保险吗")
    assert result.best is not None


def test_own_dispute_cites_the_matter_then_legal_aid(plan_matcher: Matcher) -> None:
    result = plan_matcher.match("包工头拖了我四个月工钱，电话也不接")
    assert result.handoff
    ranked = [r.entry.clause.id for r in result.ranked]
    assert ranked[0] == "2.3.3" and ranked[2] == "2.3.4"


def test_own_dispute_about_legal_aid_cites_it_beside_the_legal_aid_article(
    library_matcher: Matcher,
) -> None:
    result = library_matcher.match("工地老板欠我工钱，想请法律援助的律师帮我")
    assert result.handoff
    ranked = [r.entry.key for r in result.ranked]
    assert result.ranked[0].entry.topic == "legal_aid" and ranked[1] == (PLAN, "2.3.4")


def test_general_rights_question_is_not_a_handoff(plan_matcher: Matcher) -> None:
    assert not plan_matcher.match("如果老板不给工资，可以申请劳动仲裁吗").handoff


def test_traditional_is_detected(plan_matcher: Matcher) -> None:
    assert plan_matcher.match("勞動合同沒簽怎麼辦").is_traditional


def test_the_best_clause_has_the_highest_score(plan_matcher: Matcher) -> None:
    ranked = plan_matcher.match("培训补贴怎么申请").ranked
    assert ranked[0].score == max(r.score for r in ranked)


def test_the_runner_up_answers_what_the_best_leaves_open(plan_matcher: Matcher) -> None:
    ranked = plan_matcher.match("落户和孩子上学").ranked
    assert [r.entry.clause.id for r in ranked[:2]] == ["2.4.4", "2.4.5"]


@pytest.mark.parametrize(
    "question",
    ["", "   ", "\x00\x01\x02", "😀😀😀", "\u202e\u200f\u200e", "<script>alert(1)</script>",
     "'; DROP TABLE clause; --", "𠀀𠀁𪚥𰻞", "工" * 20_000, "a" * 20_000, "\n\n\t"],
)  # fmt: skip
def test_bad_input_never_raises(plan_matcher: Matcher, question: str) -> None:
    result = plan_matcher.match(question)
    assert result.verdict in tuple(Verdict)
