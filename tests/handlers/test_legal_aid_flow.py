"""The referral flow on neutral messages (no channel): typed answers, expiry, leaving and resuming.
Cases are stored by the real database desk on SQLite."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage.case_desk import SqlCaseDesk
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.engine import create_engine_for, init_db
from handlers.dialogue import Dialogue
from handlers.flows import build_dialogue
from handlers.legal_aid import LegalAidFlow
from handlers.messages import IncomingMessage, Reply
from handlers.phone import mainland_mobile, masked
from knowledge.match import Matcher

USER = "te-flow"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dialogue(plan_matcher: Matcher, tmp_path: Path, clock: Clock) -> Dialogue:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'flow.db'}")
    init_db(engine)
    flow = LegalAidFlow(
        SqlCaseDesk(engine, staff_chat=None),
        timeout=timedelta(minutes=30),
        retention_days=365,
        to_simplified=plan_matcher.converter.to_simplified,
        clock=clock,
    )
    return build_dialogue(plan_matcher, SqlDialogueStore(engine), legal_aid=flow)


async def say(dialogue: Dialogue, text: str) -> tuple[Reply, ...]:
    return (await dialogue.handle(IncomingMessage.typed(USER, "test", text))).replies


async def last(dialogue: Dialogue, text: str) -> str:
    return (await say(dialogue, text))[-1].text


async def test_every_step_can_be_answered_by_typing(dialogue: Dialogue) -> None:
    assert "隐私" in await last(dialogue, "法律援助")
    assert "哪类问题" in await last(dialogue, "好的")
    assert "哪个区" in await last(dialogue, "厂里把我辞退了")
    assert "手机号" in await last(dialogue, "我在塘沽")  # an old name for part of 滨海新区
    assert "单位" in await last(dialogue, "＋86 138-1234-5678")
    assert "经过" in await last(dialogue, "不知道")
    summary = await last(dialogue, "干了两年突然说不要我了，也没有补偿")
    assert "劳动合同/解除" in summary and "滨海新区" in summary and "（未填）" in summary
    # Without an address (no channel to reach them later) the receipt promises no notices.
    receipt = await last(dialogue, "提交")
    assert re.search(r"LA-\d{8}-0001", receipt) and "告诉你" not in receipt


async def test_an_abandoned_flow_expires_and_the_message_is_answered(
    dialogue: Dialogue, clock: Clock
) -> None:
    await say(dialogue, "/legalaid")
    await say(dialogue, "同意")
    clock.now += timedelta(minutes=31)
    replies = await say(dialogue, "社保能转回老家吗")
    assert "太久没填完" in replies[0].text
    assert "依据：《实施方案》二（三）2" in replies[-1].text


async def test_a_command_leaves_the_flow_and_legalaid_resumes_it(dialogue: Dialogue) -> None:
    await say(dialogue, "/legalaid")
    await say(dialogue, "同意")
    await say(dialogue, "欠薪")
    resumed = await last(dialogue, "/legalaid")
    assert "哪个区" in resumed
    left = await say(dialogue, "/topics")
    assert "已退出法律援助申请" in left[0].text and "想了解哪方面" in left[-1].text
    # Typing a district now is a question again, not a step of a flow.
    assert "手机号" not in await last(dialogue, "武清区")


async def test_mycase_during_the_flow_keeps_it(dialogue: Dialogue) -> None:
    await say(dialogue, "/legalaid")
    await say(dialogue, "同意")
    assert "还没有" in await last(dialogue, "/mycase")
    assert "哪个区" in await last(dialogue, "工伤")


async def test_an_unclear_answer_re_asks_with_a_hint(dialogue: Dialogue) -> None:
    await say(dialogue, "/legalaid")
    assert "请点“同意”" in await last(dialogue, "啥意思")
    await say(dialogue, "同意")
    assert "没看懂是哪类问题" in await last(dialogue, "天气不错")
    await say(dialogue, "其他")
    await say(dialogue, "河西")
    await say(dialogue, "13912345678")
    assert "太长" in await last(dialogue, "公司" * 40)
    await say(dialogue, "某公司")
    assert "再多说一点" in await last(dialogue, "欠钱")
    assert "请核对" in await last(dialogue, "公司欠了我两个月工资没发")
    assert "请点“确认提交”" in await last(dialogue, "嗯嗯嗯嗯")


def test_mainland_mobile_numbers_are_read_as_people_type_them() -> None:
    for typed in ("13812345678", "138 1234 5678", "138-1234-5678", "+8613812345678",
                  "0086 138 1234 5678", "１３８１２３４５６７８", "86 13812345678"):  # fmt: skip
        assert mainland_mobile(typed) == "13812345678", typed
    for wrong in ("12812345678", "1381234567", "138123456789", "023-12345678", "abc", ""):
        assert mainland_mobile(wrong) is None, wrong


def test_phone_numbers_are_masked_in_lists() -> None:
    assert masked("13812345678") == "138****5678"
    assert masked(None) == "（已删除）"


async def test_forget_during_the_flow_leaves_it_and_asks_first(dialogue: Dialogue) -> None:
    await say(dialogue, "/legalaid")
    await say(dialogue, "同意")
    replies = await say(dialogue, "/forget")
    assert "已退出法律援助申请" in replies[0].text and "确定删除" in replies[-1].text
    assert "没有删除" in await last(dialogue, "取消")
    # The prompt was answered: 确认删除 now is just words, not a deletion.
    assert "已删除" not in await last(dialogue, "确认删除")


async def test_forget_deletes_after_the_confirmation(dialogue: Dialogue) -> None:
    await say(dialogue, "/forget")
    assert "已删除" in await last(dialogue, "确认删除")
    assert "还没有" in await last(dialogue, "/mycase")
