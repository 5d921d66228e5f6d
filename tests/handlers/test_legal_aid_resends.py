"""What a worker re-sends after a crash or a timeout changes nothing twice: the submit commits the
case and the draft's end together, a re-sent 确认提交 gets the same number, and every answer
(button or typed) counts only for the step it was given for. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.storage.case_desk import SqlCaseDesk
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.models import ConversationRecord, LegalAidCase
from handlers.dialogue import Dialogue
from handlers.flows import build_dialogue
from handlers.legal_aid import LegalAidFlow
from handlers.messages import IncomingMessage, Reply
from handlers.state import ConversationState
from knowledge.match import Matcher

USER = "te-resend"
CHANNEL = "web"
PHONE = "13812345678"
CASE_NUMBER = re.compile(r"LA-\d{8}-\d{4}")


def referral(engine: Engine, matcher: Matcher) -> tuple[Dialogue, LegalAidFlow]:
    flow = LegalAidFlow(
        SqlCaseDesk(engine, staff_chat=None),
        timeout=timedelta(minutes=30),
        retention_days=365,
        to_simplified=matcher.converter.to_simplified,
    )
    return build_dialogue(matcher, SqlDialogueStore(engine), legal_aid=flow), flow


async def say(dialogue: Dialogue, text: str) -> Reply:
    return (await dialogue.handle(IncomingMessage.typed(USER, CHANNEL, text))).replies[-1]


async def press(dialogue: Dialogue, payload: str) -> Reply:
    return (await dialogue.handle(IncomingMessage.pressed(USER, CHANNEL, payload))).replies[-1]


def payload_of(reply: Reply, label: str) -> str:
    return next(choice.payload for choice in reply.choices if choice.label == label)


def cases(engine: Engine) -> list[LegalAidCase]:
    with Session(engine) as session:
        return list(session.exec(select(LegalAidCase)))


def stored_state(engine: Engine) -> ConversationState:
    with Session(engine) as session:
        record = session.get(ConversationRecord, USER)
        return ConversationState.from_json(record.state if record else {})


async def fill_up_to_confirm(dialogue: Dialogue) -> Reply:
    await say(dialogue, "法律援助")
    await say(dialogue, "同意")
    await say(dialogue, "欠薪")
    await say(dialogue, "武清")
    await say(dialogue, PHONE)
    await say(dialogue, "某某建筑劳务公司")
    return await say(dialogue, "包工头拖欠我三个月工资，一共一万二")


async def test_the_submit_commits_the_drafts_end_with_the_case(
    engine: Engine, plan_matcher: Matcher
) -> None:
    """A crash right after the case is committed (before anything else is saved) leaves no
    draft to submit a second time."""
    dialogue, flow = referral(engine, plan_matcher)
    summary = await fill_up_to_confirm(dialogue)
    submit = IncomingMessage.pressed(USER, CHANNEL, payload_of(summary, "确认提交"))
    # The flow alone, as if the process died the moment the desk returned.
    state = stored_state(engine)
    await flow.handle(submit, state)
    assert stored_state(engine).legal_aid is None
    resent = await dialogue.handle(submit)
    (case,) = cases(engine)
    assert case.number in resent.replies[-1].text


async def test_a_re_sent_submit_answers_with_the_same_number(
    engine: Engine, plan_matcher: Matcher
) -> None:
    dialogue, _ = referral(engine, plan_matcher)
    summary = await fill_up_to_confirm(dialogue)
    first = await press(dialogue, payload_of(summary, "确认提交"))
    again = await press(dialogue, payload_of(summary, "确认提交"))
    typed = await say(dialogue, "确认提交")
    (case,) = cases(engine)
    for reply in (first, again, typed):
        assert CASE_NUMBER.findall(reply.text) == [case.number]


async def test_a_re_sent_phone_number_is_not_taken_as_the_employer(
    engine: Engine, plan_matcher: Matcher
) -> None:
    dialogue, _ = referral(engine, plan_matcher)
    await say(dialogue, "法律援助")
    await say(dialogue, "同意")
    await say(dialogue, "欠薪")
    await say(dialogue, "武清")
    await say(dialogue, PHONE)
    again = await say(dialogue, PHONE)
    assert "已经记下了" in again.text and "单位" in again.text
    await say(dialogue, "某某建筑劳务公司")
    summary = await say(dialogue, "包工头拖欠我三个月工资，一共一万二")
    assert "单位：某某建筑劳务公司" in summary.text
    await press(dialogue, payload_of(summary, "确认提交"))
    (case,) = cases(engine)
    assert case.employer == "某某建筑劳务公司" and case.phone == PHONE


async def test_a_button_counts_only_at_the_step_it_was_shown_for(
    engine: Engine, plan_matcher: Matcher
) -> None:
    dialogue, _ = referral(engine, plan_matcher)
    await say(dialogue, "法律援助")
    await say(dialogue, "同意")
    districts = await say(dialogue, "欠薪")
    await press(dialogue, payload_of(districts, "武清区"))
    # The district prompt's buttons again (a re-sent press, a second tap): the phone is asked.
    again = await press(dialogue, payload_of(districts, "西青区"))
    assert "已经记下了" in again.text and "手机号" in again.text
    assert stored_state(engine).legal_aid.district == "武清区"  # type: ignore[union-attr]


async def test_an_old_button_without_a_step_counts_only_where_it_fits(
    engine: Engine, plan_matcher: Matcher
) -> None:
    dialogue, _ = referral(engine, plan_matcher)
    await say(dialogue, "法律援助")
    await say(dialogue, "同意")
    await say(dialogue, "欠薪")
    assert "手机号" in (await press(dialogue, "la:dist:3")).text
    assert "已经记下了" in (await press(dialogue, "la:dist:5")).text
    await say(dialogue, PHONE)
    await press(dialogue, "la:skip")
    await say(dialogue, "包工头拖欠我三个月工资，一共一万二")
    # 同意's old button at the summary is not a 确认提交.
    assert "请核对" in (await press(dialogue, "la:yes")).text and cases(engine) == []
    assert CASE_NUMBER.search((await press(dialogue, "la:submit")).text)
    (case,) = cases(engine)
    assert case.district == "南开区" and case.employer is None


async def test_a_nul_in_a_description_is_dropped_and_the_case_submits(
    engine: Engine, plan_matcher: Matcher
) -> None:
    dialogue, _ = referral(engine, plan_matcher)
    await say(dialogue, "法律援助")
    await say(dialogue, "同意")
    await say(dialogue, "欠薪")
    await say(dialogue, "武清")
    await say(dialogue, "138\x0012345678")
    await say(dialogue, "某某\x00公司")
    summary = await say(dialogue, "包工头拖欠\x00我三个月工资\x1b，一共一万二\ud800")
    await press(dialogue, payload_of(summary, "确认提交"))
    (case,) = cases(engine)
    assert (case.phone, case.employer) == (PHONE, "某某公司")
    assert case.description == "包工头拖欠我三个月工资，一共一万二"


async def test_a_draft_stored_with_a_nul_can_still_be_submitted(
    engine: Engine, plan_matcher: Matcher
) -> None:
    """Drafts saved before inputs were cleaned (JSON keeps a NUL; a text column cannot)."""
    dialogue, _ = referral(engine, plan_matcher)
    summary = await fill_up_to_confirm(dialogue)
    with Session(engine) as session:
        record = session.get(ConversationRecord, USER)
        assert record is not None
        draft = dict(record.state["legal_aid"])
        draft["description"] = "包工头拖欠\x00我三个月工资"
        record.state = {**record.state, "legal_aid": draft}
        session.add(record)
        session.commit()
    assert CASE_NUMBER.search((await press(dialogue, payload_of(summary, "确认提交"))).text)
    (case,) = cases(engine)
    assert case.description == "包工头拖欠我三个月工资"
