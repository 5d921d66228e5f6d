"""Cases and the outbox on SQLite and PostgreSQL: numbering, races, leases, forgetting, retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.settings import load_settings
from bot.storage.case_desk import SqlCaseDesk, StaffChat, case_day
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.models import (
    ConversationRecord,
    LegalAidCase,
    OutboxMessage,
    QuestionRow,
    UserRecord,
)
from bot.storage.repositories import outbox
from bot.storage.repositories.cases import anonymise_closed_before, case_number
from bot.storage.repositories.conversations import purge_expired_drafts
from bot.storage.retention import enforce_retention
from handlers.cases import CONSENT_VERSION, CaseDraft, CaseView, ChangeOutcome, StaffMember
from handlers.flows import build_dialogue
from handlers.legal_aid import LegalAidFlow
from handlers.messages import IncomingMessage, QuestionRecord
from knowledge.match import Matcher

STAFF_A = StaffMember("telegram:1", "甲")
STAFF_B = StaffMember("telegram:2", "乙")


def draft(user_key: str = "te-worker", *, address: str | None = "2001") -> CaseDraft:
    return CaseDraft(
        user_key=user_key,
        channel="telegram",
        address=address,
        category="wages",
        district="武清区",
        phone="13812345678",
        employer="某某公司",
        description="拖欠三个月工资",
        consent_at=datetime.now(UTC),
        consent_version=CONSENT_VERSION,
    )


def no_state(_case: CaseView) -> dict[str, object]:
    """The worker's state after submitting, for tests that don't look at it."""
    return {"known": True}


def desk_on(engine: Engine, *, staff: bool = True) -> SqlCaseDesk:
    return SqlCaseDesk(engine, staff_chat=StaffChat("telegram", "-100123") if staff else None)


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))  # type: ignore[arg-type]


def test_case_numbers_follow_the_beijing_date() -> None:
    late_evening_utc = datetime(2027, 1, 14, 17, 30, tzinfo=UTC)  # already the 15th in Beijing
    assert case_number(case_day(late_evening_utc), 7) == "LA-20270115-0007"


async def test_numbers_are_sequential_and_unique_under_concurrent_submissions(
    engine: Engine,
) -> None:
    desk = desk_on(engine)
    views = await asyncio.gather(
        *(desk.submit(draft(f"te-{i}"), state_after=no_state) for i in range(8))
    )
    numbers = sorted(view.number for view in views)
    assert len(set(numbers)) == 8
    assert [int(number.rsplit("-", 1)[1]) for number in numbers] == list(range(1, 9))
    cards = [row for row in outbox_rows(engine) if row.kind == "case_card"]
    assert len(cards) == 8 and {row.case_id for row in cards} == {v.id for v in views}


async def test_without_a_staff_chat_cases_are_kept_but_no_card_is_queued(engine: Engine) -> None:
    view = await desk_on(engine, staff=False).submit(draft(), state_after=no_state)
    assert view.number.startswith("LA-") and outbox_rows(engine) == []


async def test_two_staff_claiming_at_once_one_wins_and_the_worker_hears_once(
    engine: Engine,
) -> None:
    desk = desk_on(engine)
    case = await desk.submit(draft(), state_after=no_state)
    first, second = await asyncio.gather(desk.claim(case.id, STAFF_A), desk.claim(case.id, STAFF_B))
    outcomes = sorted([first.outcome, second.outcome])
    assert outcomes == sorted([ChangeOutcome.DONE, ChangeOutcome.ALREADY_CLAIMED])
    notices = [row for row in outbox_rows(engine) if row.kind == "worker_notice"]
    assert len(notices) == 1 and notices[0].event == "claimed" and notices[0].address == "2001"


async def test_closing_records_the_outcome_and_a_closed_case_stays_closed(engine: Engine) -> None:
    desk = desk_on(engine)
    case = await desk.submit(draft(), state_after=no_state)
    closed = await desk.close(case.id, STAFF_A, "已调解，工资结清")
    assert closed.outcome == ChangeOutcome.DONE and closed.case is not None
    assert closed.case.outcome == "已调解，工资结清" and closed.case.claimed_by == "甲"
    again = await desk.close(case.id, STAFF_B, "重复")
    assert again.outcome == ChangeOutcome.ALREADY_CLOSED
    claim = await desk.claim(case.id, STAFF_B)
    assert claim.outcome == ChangeOutcome.ALREADY_CLOSED
    events = [row.event for row in outbox_rows(engine) if row.kind == "worker_notice"]
    assert events == ["closed"]


async def test_a_worker_without_an_address_gets_no_queued_notices(engine: Engine) -> None:
    desk = desk_on(engine)
    case = await desk.submit(draft(address=None), state_after=no_state)
    await desk.claim(case.id, STAFF_A)
    assert [row.kind for row in outbox_rows(engine)] == ["case_card", "card_refresh"]


def test_a_duplicate_notice_is_not_queued_twice(session: Session) -> None:
    options = {"channel": "telegram", "address": "1", "kind": "worker_notice", "case_id": 1}
    assert outbox.enqueue(dedupe_key="case:1:claimed", session=session, **options)
    assert not outbox.enqueue(dedupe_key="case:1:claimed", session=session, **options)
    session.commit()
    assert len(outbox.list_messages(session=session)) == 1


def test_a_leased_message_is_not_leased_again_until_its_lease_expires(engine: Engine) -> None:
    with Session(engine) as session:
        outbox.enqueue(
            dedupe_key="k", channel="telegram", address="1", kind="case_card", session=session
        )
        session.commit()
    now = datetime.now(UTC)
    lease = timedelta(minutes=2)
    with Session(engine) as session:
        (first,) = outbox.lease_due("telegram", lease=lease, limit=5, session=session, now=now)
        session.commit()
    with Session(engine) as session:
        assert outbox.lease_due("telegram", lease=lease, limit=5, session=session, now=now) == []
        # Another channel's sender never takes it.
        later = now + timedelta(minutes=3)
        assert outbox.lease_due("wechat", lease=lease, limit=5, session=session, now=later) == []
        # The sender died mid-send: after the lease it is due again, not lost.
        (again,) = outbox.lease_due("telegram", lease=lease, limit=5, session=session, now=later)
        session.commit()
    assert again.id == first.id and again.attempts == 2


async def test_forget_removes_everything_personal_and_keeps_anonymous_counts(
    engine: Engine,
) -> None:
    desk = desk_on(engine)
    store = SqlDialogueStore(engine)
    await store.touch_user("te-worker", "telegram", language="zh", source="chunfeng_xiqing")
    await store.save_state("te-worker", {"last_question": {"id": 1, "text": "老板欠薪"}})
    record = QuestionRecord("2.3.3", "plan", 9.0, "rights", False, True, 1.0)
    await store.record_question("te-worker", "telegram", record, text="老板欠薪怎么办")
    case = await desk.submit(draft(), state_after=no_state)
    await desk.add_note(case.id, STAFF_A, "已电话联系本人")
    assert await desk.forget("te-worker") == 1
    with Session(engine) as session:
        (row,) = session.exec(select(LegalAidCase)).all()
        assert (row.phone, row.description, row.employer, row.address) == (None, None, None, None)
        assert row.user_key is None and row.notes == [] and row.district == "武清区"
        assert row.source == "chunfeng_xiqing"  # where the worker came from is not personal
        assert session.get(UserRecord, "te-worker") is None
        assert session.get(ConversationRecord, "te-worker") is None
        (question,) = session.exec(select(QuestionRow)).all()
        assert question.text is None and question.user_key != "te-worker"
    assert await desk.cases_of("te-worker") == []


async def test_forget_through_the_dialogue_leaves_no_conversation_row(
    engine: Engine, plan_matcher: Matcher
) -> None:
    flow = LegalAidFlow(
        desk_on(engine),
        timeout=timedelta(minutes=30),
        retention_days=365,
        to_simplified=plan_matcher.converter.to_simplified,
    )
    dialogue = build_dialogue(plan_matcher, SqlDialogueStore(engine), legal_aid=flow)
    for text in ("孩子能上公办学校吗", "/forget", "确认删除"):
        await dialogue.handle(IncomingMessage.typed("te-worker", "web", text))
    with Session(engine) as session:
        assert session.exec(select(ConversationRecord)).all() == []


async def test_forget_drops_unsent_notices_to_the_worker(engine: Engine) -> None:
    desk = desk_on(engine)
    case = await desk.submit(draft(), state_after=no_state)
    await desk.claim(case.id, STAFF_A)
    await desk.forget("te-worker")
    rows = outbox_rows(engine)
    assert all(row.kind != "worker_notice" for row in rows)
    # The staff card is refreshed so the staff chat stops showing the phone number.
    assert [row.kind for row in rows].count("card_refresh") == 2


async def test_retention_anonymises_only_long_closed_cases(engine: Engine) -> None:
    desk = desk_on(engine)
    old, recent, open_case = [
        await desk.submit(draft(f"te-{i}"), state_after=no_state) for i in range(3)
    ]
    await desk.close(old.id, STAFF_A, "办结")
    await desk.close(recent.id, STAFF_A, "办结")
    with Session(engine) as session:
        record = session.get(LegalAidCase, old.id)
        assert record is not None
        record.closed_at = datetime.now(UTC) - timedelta(days=400)
        session.add(record)
        session.commit()
    with Session(engine) as session:
        assert (
            anonymise_closed_before(datetime.now(UTC) - timedelta(days=365), session=session) == 1
        )
        session.commit()
    phones = {
        view.id: view.phone
        for view in [await desk.get(c.id) for c in (old, recent, open_case)]
        if view
    }
    assert phones == {old.id: None, recent.id: "13812345678", open_case.id: "13812345678"}


def test_half_filled_referrals_are_dropped_after_the_timeout(session: Session) -> None:
    session.add(
        ConversationRecord(user_key="idle", state={"legal_aid": {"phone": "1"}, "known": True})
    )
    session.add(ConversationRecord(user_key="busy", state={"legal_aid": {"phone": "2"}}))
    session.commit()
    idle = session.get(ConversationRecord, "idle")
    assert idle is not None
    idle.updated_at = datetime.now(UTC) - timedelta(hours=2)
    session.add(idle)
    session.commit()
    assert purge_expired_drafts("legal_aid", older_than=timedelta(minutes=30), session=session) == 1
    session.commit()
    session.expire_all()
    assert session.get(ConversationRecord, "idle").state == {"known": True}  # type: ignore[union-attr]
    assert "legal_aid" in session.get(ConversationRecord, "busy").state  # type: ignore[union-attr]


def test_enforce_retention_runs_every_rule(engine: Engine) -> None:
    settings = load_settings(None, privacy={"case_retention_days": 1})
    assert enforce_retention(settings, engine) == 0


async def test_forget_also_ends_a_campaign_subscription(engine: Engine) -> None:
    from bot.storage.campaign_store import SqlSubscriptionStore
    from bot.storage.models import SubscriptionRecord

    await SqlSubscriptionStore(engine).subscribe("te-worker", "telegram", address="2001", topics=[])
    await desk_on(engine).forget("te-worker")
    with Session(engine) as session:
        assert session.exec(select(SubscriptionRecord)).all() == []
