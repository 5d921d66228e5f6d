"""Who needs a person (their own dispute) and what the plan cannot answer (other places, other topics)."""

from __future__ import annotations

import pytest

from knowledge.handoff import is_handoff as is_handoff_with
from knowledge.lexicon import load_lexicon
from knowledge.normalizer import Normalizer, ScriptConverter
from knowledge.scope import ScopeCheck
from knowledge.scope import check_scope as check_scope_with
from knowledge.signals import load_signals
from knowledge.tokenizer import Tokenizer

_normalizer = Normalizer(ScriptConverter())
_signals = load_signals()
_lexicon = load_lexicon()
_tokenizer = Tokenizer(_lexicon.user_words, _lexicon.stopwords, _lexicon.dictionary_path)


def is_handoff(text: str) -> bool:
    return is_handoff_with(text, _signals.handoff)


def check_scope(text: str) -> ScopeCheck:
    return check_scope_with(text, _signals.scope)


def normalized(text: str) -> str:
    return _normalizer.normalize(text).text


@pytest.mark.parametrize(
    "text",
    [
        "干了半年活，老板一分钱工钱都没给我，电话也不接",
        "我们班组八个人的工资被项目经理压了四个月",
        "搬货时从车上掉下来腿骨折了，厂里说不归他们管",
        "经理昨天突然让我明天别来了，一分补偿都没有",
        "厂里一直没跟我签劳动合同，现在不让我干了",
        "公司扣了我半个月工资，我想找个律师",
        "我爸在工地摔伤了，包工头不管，能帮我们申请法律援助吗",
        "俺的工钱到现在还没结，咋办",
    ],
)
def test_own_disputes_are_handed_off(text: str) -> None:
    assert is_handoff(normalized(text))


@pytest.mark.parametrize(
    "text",
    [
        "如果老板不给工资，应该去哪里投诉",
        "万一以后受了工伤，工伤保险怎么报",
        "工会的法律援助是免费的吗",
        "劳动合同一般要签几年",
        "农民工被拖欠工资的案件仲裁快吗",
        "我想学个技术，有培训补贴吗",
        "知工APP能咨询律师吗",
    ],
)
def test_general_and_hypothetical_questions_are_not_handed_off(text: str) -> None:
    assert not is_handoff(normalized(text))


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("广州的农民工子女怎么入学", "广州"),
        ("杭州积分落户要多少分", "杭州"),
        ("在北京打工能领失业金吗", "北京"),
        # Any prefecture-level city, not only capitals: the gazetteer is complete by design.
        ("温州那边工伤赔偿标准高不高", "温州"),
        ("在绵阳的厂里上班，当地社保基数多少", "绵阳"),
    ],
)
def test_other_places_policies_are_out_of_scope(text: str, region: str) -> None:
    assert check_scope(normalized(text)).other_region == region


@pytest.mark.parametrize(
    "text",
    [
        "我老家是河南的，在天津能落户吗",
        "户口在山东农村，人在武清打工，能办失业登记吗",
        "我是从甘肃过来打工的，有什么照顾政策",
        "河北区有农民工服务窗口吗",
        "我是周口的，在天津工地干活被欠了工钱",
        # City names that are also everyday words are left out of the gazetteer.
        "今天水费电费单位给报销吗",
        "宿舍家中卫生间漏水房东不修",
    ],
)
def test_where_someone_comes_from_is_not_another_place_question(text: str) -> None:
    assert check_scope(normalized(text)).other_region is None


@pytest.mark.parametrize("text", ["后天下雪吗", "这只股票能买吗", "火车票怎么退"])
def test_everyday_topics_are_flagged(text: str) -> None:
    assert check_scope(normalized(text)).is_off_topic


def test_policy_questions_are_not_flagged_off_topic() -> None:
    assert not check_scope(normalized("工伤保险回老家还能领吗")).is_off_topic


def test_an_everyday_word_spelled_inside_another_word_is_not_flagged() -> None:
    text = normalized("骑电动车上班路上被撞了")
    words = _tokenizer.segment(text)
    assert check_scope(text).is_off_topic  # 动车, read letter by letter
    assert not check_scope_with(text, _signals.scope, words).is_off_topic


def test_a_compound_that_starts_with_an_uncovered_word_is_still_about_it() -> None:
    text = normalized("开个股票账户要带啥")
    assert check_scope_with(text, _signals.scope, _tokenizer.segment(text)).is_off_topic
