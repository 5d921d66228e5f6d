"""`handlers.cases.CaseDesk` on the database: each change and the notices it causes commit in one
transaction (in a worker thread, so the event loop never waits on the database)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, update

from bot.events import log_event
from bot.storage.engine import in_transaction
from bot.storage.models import (
    CampaignArrival,
    LegalAidCase,
    SubscriptionRecord,
    UserRecord,
    utc_now,
)
from bot.storage.open_turn import after_commit, driver_connection
from bot.storage.repositories import audit, outbox
from bot.storage.repositories import cases as case_rows
from bot.storage.repositories.audit import AuditAction
from bot.storage.repositories.conversations import (
    FORGOTTEN_USER_KEY,
    DialogueStatements,
    forget_user,
)
from bot.storage.repositories.job_preferences import forget_jobs
from handlers.cases import (
    BEIJING,
    CaseChange,
    CaseDraft,
    CaseNote,
    CaseStatus,
    CaseView,
    ChangeOutcome,
    StaffMember,
)
from handlers.casework import CaseEvent

T = TypeVar("T")

CARD, CARD_REFRESH, WORKER_NOTICE = "case_card", "card_refresh", "worker_notice"
AUDITED_CHANGES = {
    CaseEvent.CLAIMED: AuditAction.CLAIM,
    CaseEvent.CLOSED: AuditAction.CLOSE,
    None: AuditAction.NOTE,
}


def case_day(moment: datetime) -> str:
    """The date a case is numbered under: Beijing's, as the worker and staff read it."""
    return f"{moment.astimezone(BEIJING):%Y%m%d}"


def case_row(draft: CaseDraft, *, number: str, created_at: datetime) -> LegalAidCase:
    """A new case's row."""
    return LegalAidCase(
        number=number,
        user_key=draft.user_key,
        channel=draft.channel,
        address=draft.address,
        traditional=draft.traditional,
        category=draft.category,
        district=draft.district,
        phone=draft.phone,
        employer=draft.employer,
        description=draft.description,
        consent_at=draft.consent_at,
        consent_version=draft.consent_version,
        created_at=created_at,
    )


def case_view(record: LegalAidCase) -> CaseView:
    """A stored case as the handlers see it."""
    assert record.id is not None
    return CaseView(
        id=record.id,
        number=record.number,
        status=CaseStatus(record.status),
        category=record.category,
        district=record.district,
        phone=record.phone,
        employer=record.employer,
        description=record.description,
        created_at=record.created_at,
        claimed_by=record.claimed_by,
        claimed_at=record.claimed_at,
        closed_by=record.closed_by,
        closed_at=record.closed_at,
        outcome=record.outcome,
        notes=tuple(
            CaseNote(note["author"], datetime.fromisoformat(note["at"]), note["text"])
            for note in record.notes
        ),
        traditional=record.traditional,
    )


def case_change(changed: case_rows.Changed) -> CaseChange:
    """What a change did, read from whether it took and the case as it is now."""
    took, record = changed
    if record is None:
        return CaseChange(ChangeOutcome.NOT_FOUND, None)
    view = case_view(record)
    if took:
        return CaseChange(ChangeOutcome.DONE, view)
    if view.status == CaseStatus.CLOSED:
        return CaseChange(ChangeOutcome.ALREADY_CLOSED, view)
    return CaseChange(ChangeOutcome.ALREADY_CLAIMED, view)


@dataclass(frozen=True, slots=True)
class StaffChat:
    """Where case cards go: a channel and its address (the union's Telegram group id)."""

    channel: str
    address: str


class SqlCaseDesk:
    def __init__(
        self,
        engine: Engine,
        *,
        staff_chat: StaffChat | None,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._staff_chat = staff_chat
        self._on_queued = on_queued
        self._statements = DialogueStatements(engine.dialect)

    async def _run(self, work: Callable[[Session], T], *, queues: bool = False) -> T:
        result = await in_transaction(self._engine, work)
        if queues and self._on_queued is not None:
            # Once committed (at the end of the turn, when inside one) the sender may look.
            after_commit(self._engine, self._on_queued)
        return result

    # ------------------------------------------------------------------ notices

    def _queue_card(self, record: LegalAidCase, *, session: Session, refresh: bool) -> None:
        if self._staff_chat is None or record.id is None:
            return
        key = (
            f"case:{record.id}:refresh:{uuid.uuid4().hex}" if refresh else f"case:{record.id}:card"
        )
        outbox.enqueue(
            dedupe_key=key,
            channel=self._staff_chat.channel,
            address=self._staff_chat.address,
            kind=CARD_REFRESH if refresh else CARD,
            case_id=record.id,
            session=session,
        )

    @staticmethod
    def _queue_worker_notice(record: LegalAidCase, event: CaseEvent, *, session: Session) -> None:
        if not record.address or record.id is None:
            return
        outbox.enqueue(
            dedupe_key=f"case:{record.id}:{event.value}",
            channel=record.channel,
            address=record.address,
            kind=WORKER_NOTICE,
            case_id=record.id,
            event=event.value,
            session=session,
        )

    # ------------------------------------------------------------------ the desk

    async def submit(
        self, draft: CaseDraft, *, state_after: Callable[[CaseView], Mapping[str, Any]]
    ) -> CaseView:
        def work(session: Session) -> CaseView:
            created = utc_now()
            number = case_rows.take_number(case_day(created), session=session)
            row = case_row(draft, number=number, created_at=created)
            record = case_rows.insert_case(row, session=session)
            self._queue_card(record, session=session, refresh=False)
            view = case_view(record)
            # The draft ends in the same transaction as the case begins.
            self._statements.save(draft.user_key, state_after(view)).rows(
                driver_connection(session)
            )
            return view

        view = await self._run(work, queues=True)
        log_event("legal_aid_case_created", case=view.id, category=view.category)
        return view

    async def cases_of(self, user_key: str) -> list[CaseView]:
        return await self._run(
            lambda s: [case_view(r) for r in case_rows.cases_of_user(user_key, session=s)]
        )

    async def get(self, case_id: int) -> CaseView | None:
        def work(session: Session) -> CaseView | None:
            record = case_rows.get_case(case_id, session=session)
            return case_view(record) if record else None

        return await self._run(work)

    async def _change(
        self,
        case_id: int,
        change: Callable[[Session], case_rows.Changed],
        event: CaseEvent | None,
        staff: StaffMember,
    ) -> CaseChange:
        """Apply a change; if it took, queue the worker's notice (if any) and a card refresh,
        and write it to the audit log — whichever side (card or console) made it."""

        def work(session: Session) -> CaseChange:
            took, record = change(session)
            if took and record is not None:
                if event is not None:
                    self._queue_worker_notice(record, event, session=session)
                self._queue_card(record, session=session, refresh=True)
                audit.record(
                    staff.id,
                    staff.name,
                    AUDITED_CHANGES[event],
                    case_number=record.number,
                    session=session,
                )
            return case_change((took, record))

        result = await self._run(work, queues=True)
        log_event(
            "legal_aid_case_changed",
            case=case_id,
            change=event.value if event else "note",
            outcome=result.outcome.value,
        )
        return result

    async def claim(self, case_id: int, staff: StaffMember) -> CaseChange:
        return await self._change(
            case_id,
            lambda s: case_rows.claim_case(
                case_id, staff_id=staff.id, staff_name=staff.name, session=s
            ),
            CaseEvent.CLAIMED,
            staff,
        )

    async def close(self, case_id: int, staff: StaffMember, outcome: str) -> CaseChange:
        return await self._change(
            case_id,
            lambda s: case_rows.close_case(
                case_id, outcome, staff_id=staff.id, staff_name=staff.name, session=s
            ),
            CaseEvent.CLOSED,
            staff,
        )

    async def add_note(self, case_id: int, staff: StaffMember, text: str) -> CaseChange:
        return await self._change(
            case_id,
            lambda s: case_rows.add_note(case_id, text, author=staff.name, session=s),
            None,
            staff,
        )

    async def forget(self, user_key: str) -> int:
        def work(session: Session) -> int:
            case_ids = case_rows.anonymise_user_cases(user_key, session=session)
            outbox.drop_worker_notices(case_ids, session=session)
            for case_id in case_ids:
                record = session.get(LegalAidCase, case_id)
                if record is not None:  # the staff card loses the phone and description too
                    self._queue_card(record, session=session, refresh=True)
            forget_user(user_key, session=session)
            forget_jobs(user_key, session=session)  # job preferences, digests, what was shown
            session.exec(delete(UserRecord).where(col(UserRecord.user_key) == user_key))
            # Subscriptions hold the person's chat address; poster arrivals stay as counts.
            session.exec(
                delete(SubscriptionRecord).where(col(SubscriptionRecord.user_key) == user_key)
            )
            session.exec(
                update(CampaignArrival)
                .where(col(CampaignArrival.user_key) == user_key)
                .values(user_key=FORGOTTEN_USER_KEY)
            )
            return len(case_ids)

        count = await self._run(work, queues=True)
        log_event("user_forgotten", cases=count)
        return count
