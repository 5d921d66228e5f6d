"""Legal-aid cases in the database: numbering, status changes, anonymisation, listing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select, update

from bot.storage.models import CaseCounter, LegalAidCase, UserRecord, utc_now
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

NUMBER_PREFIX = "LA"
NUMBER_ATTEMPTS = 5


class CaseNumberError(RuntimeError):
    """No free case number after several tries (only under extreme concurrent submission)."""


def case_number(day: datetime, sequence: int) -> str:
    return f"{NUMBER_PREFIX}-{day.astimezone(BEIJING):%Y%m%d}-{sequence:04d}"


def _next_sequence(day: datetime, *, session: Session) -> int:
    """The day's next sequence number: an atomic increment of the day's counter row, so
    concurrent submissions (threads or processes) never get the same number."""
    key = f"{day.astimezone(BEIJING):%Y%m%d}"
    increment = (
        update(CaseCounter)
        .where(col(CaseCounter.day) == key)
        .values(last=CaseCounter.last + 1)
        .returning(col(CaseCounter.last))
    )
    for _ in range(NUMBER_ATTEMPTS):
        value = session.exec(increment).scalar_one_or_none()
        if value is not None:
            return int(value)
        savepoint = session.begin_nested()
        session.add(CaseCounter(day=key, last=1))
        try:
            savepoint.commit()
        except IntegrityError:  # another submission created the day's row first: increment it
            savepoint.rollback()
            continue
        return 1
    raise CaseNumberError("could not take a case number")


def create_case(draft: CaseDraft, *, session: Session, now: datetime | None = None) -> LegalAidCase:
    """Insert the case under the day's next number (Beijing date)."""
    created = now or utc_now()
    user = session.get(UserRecord, draft.user_key)
    record = LegalAidCase(
        number=case_number(created, _next_sequence(created, session=session)),
        user_key=draft.user_key,
        channel=draft.channel,
        address=draft.address,
        source=user.source if user else None,
        traditional=draft.traditional,
        category=draft.category,
        district=draft.district,
        phone=draft.phone,
        employer=draft.employer,
        description=draft.description,
        consent_at=draft.consent_at,
        consent_version=draft.consent_version,
        created_at=created,
    )
    session.add(record)
    session.flush()
    return record


def view_of(record: LegalAidCase) -> CaseView:
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


def get_case(case_id: int, *, session: Session, for_update: bool = False) -> LegalAidCase | None:
    statement = select(LegalAidCase).where(col(LegalAidCase.id) == case_id)
    if for_update:
        statement = statement.with_for_update()  # PostgreSQL row lock; SQLite locks the file
    return session.exec(statement).first()


def get_case_by_number(number: str, *, session: Session) -> LegalAidCase | None:
    return session.exec(select(LegalAidCase).where(col(LegalAidCase.number) == number)).first()


def cases_of_user(user_key: str, *, session: Session) -> list[LegalAidCase]:
    return list(
        session.exec(
            select(LegalAidCase)
            .where(col(LegalAidCase.user_key) == user_key)
            .order_by(col(LegalAidCase.id))
        )
    )


def list_cases(*, session: Session, status: str | None = None) -> list[LegalAidCase]:
    statement = select(LegalAidCase).order_by(col(LegalAidCase.id))
    if status:
        statement = statement.where(col(LegalAidCase.status) == status)
    return list(session.exec(statement))


def _transition(
    case_id: int,
    allowed_from: tuple[CaseStatus, ...],
    values: dict[str, object],
    *,
    session: Session,
) -> tuple[ChangeOutcome, LegalAidCase | None]:
    """A status change as one conditional UPDATE: of two staff pressing at once, exactly one
    matches the old status (on SQLite and PostgreSQL alike)."""
    result = session.exec(
        update(LegalAidCase)
        .where(
            col(LegalAidCase.id) == case_id,
            col(LegalAidCase.status).in_([status.value for status in allowed_from]),
        )
        .values(**values)
    )
    record = session.get(LegalAidCase, case_id)
    if record is not None:
        session.refresh(record)
    if result.rowcount == 1:
        return ChangeOutcome.DONE, record
    if record is None:
        return ChangeOutcome.NOT_FOUND, None
    if record.status == CaseStatus.CLOSED:
        return ChangeOutcome.ALREADY_CLOSED, record
    return ChangeOutcome.ALREADY_CLAIMED, record


def claim_case(
    case_id: int, staff: StaffMember, *, session: Session, now: datetime | None = None
) -> tuple[ChangeOutcome, LegalAidCase | None]:
    values: dict[str, object] = {
        "status": CaseStatus.CLAIMED.value,
        "claimed_by_id": staff.id,
        "claimed_by": staff.name,
        "claimed_at": now or utc_now(),
    }
    return _transition(case_id, (CaseStatus.PENDING,), values, session=session)


def close_case(
    case_id: int,
    staff: StaffMember,
    outcome: str,
    *,
    session: Session,
    now: datetime | None = None,
) -> tuple[ChangeOutcome, LegalAidCase | None]:
    moment = now or utc_now()
    values: dict[str, object] = {
        "status": CaseStatus.CLOSED.value,
        "closed_by": staff.name,
        "closed_at": moment,
        "outcome": outcome,
        # Closed straight from pending: whoever closes it handled it.
        "claimed_by_id": func.coalesce(LegalAidCase.claimed_by_id, staff.id),
        "claimed_by": func.coalesce(LegalAidCase.claimed_by, staff.name),
        "claimed_at": func.coalesce(LegalAidCase.claimed_at, moment),
    }
    return _transition(case_id, (CaseStatus.PENDING, CaseStatus.CLAIMED), values, session=session)


def add_note(
    case_id: int, staff: StaffMember, text: str, *, session: Session, now: datetime | None = None
) -> tuple[ChangeOutcome, LegalAidCase | None]:
    record = get_case(case_id, session=session, for_update=True)
    if record is None:
        return ChangeOutcome.NOT_FOUND, None
    moment = now or utc_now()
    # A new list, so the JSON column sees the change.
    record.notes = [*record.notes, {"author": staff.name, "at": moment.isoformat(), "text": text}]
    session.add(record)
    return ChangeOutcome.DONE, record


def _anonymise(record: LegalAidCase, moment: datetime) -> None:
    record.user_key = None
    record.address = None
    record.phone = None
    record.employer = None
    record.description = None
    record.outcome = None if record.outcome is None else "（已删除）"
    record.notes = []
    record.anonymised_at = moment


def anonymise_user_cases(
    user_key: str, *, session: Session, now: datetime | None = None
) -> list[int]:
    """Strip a worker's personal data from their cases; returns the case ids."""
    moment = now or utc_now()
    ids: list[int] = []
    for record in cases_of_user(user_key, session=session):
        _anonymise(record, moment)
        session.add(record)
        assert record.id is not None
        ids.append(record.id)
    return ids


def anonymise_closed_before(
    cutoff: datetime, *, session: Session, now: datetime | None = None
) -> int:
    """Retention: closed cases older than the cutoff keep only category, district and dates."""
    records = session.exec(
        select(LegalAidCase).where(
            col(LegalAidCase.status) == CaseStatus.CLOSED.value,
            col(LegalAidCase.closed_at) < cutoff,
            col(LegalAidCase.anonymised_at).is_(None),
        )
    ).all()
    moment = now or utc_now()
    for record in records:
        _anonymise(record, moment)
        session.add(record)
    return len(records)


def change(outcome: ChangeOutcome, record: LegalAidCase | None) -> CaseChange:
    return CaseChange(outcome, view_of(record) if record is not None else None)
