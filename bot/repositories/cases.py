"""Legal-aid cases in the database: numbering, status changes, anonymisation, listing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.models import LegalAidCase, UserRecord, utc_now
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
    prefix = f"{NUMBER_PREFIX}-{day.astimezone(BEIJING):%Y%m%d}-"
    numbers = session.exec(
        select(LegalAidCase.number).where(col(LegalAidCase.number).startswith(prefix))
    ).all()
    return max((int(number.rsplit("-", 1)[1]) for number in numbers), default=0) + 1


def create_case(draft: CaseDraft, *, session: Session, now: datetime | None = None) -> LegalAidCase:
    """Insert the case with the day's next number (Beijing date); retried if another process
    took the same number a moment ago."""
    created = now or utc_now()
    user = session.get(UserRecord, draft.user_key)
    for _ in range(NUMBER_ATTEMPTS):
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
        savepoint = session.begin_nested()
        session.add(record)
        try:
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()
            continue
        return record
    raise CaseNumberError("no free case number")


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


def claim_case(
    case_id: int, staff: StaffMember, *, session: Session, now: datetime | None = None
) -> tuple[ChangeOutcome, LegalAidCase | None]:
    record = get_case(case_id, session=session, for_update=True)
    if record is None:
        return ChangeOutcome.NOT_FOUND, None
    if record.status == CaseStatus.CLOSED:
        return ChangeOutcome.ALREADY_CLOSED, record
    if record.status == CaseStatus.CLAIMED:
        return ChangeOutcome.ALREADY_CLAIMED, record
    record.status = CaseStatus.CLAIMED.value
    record.claimed_by_id = staff.id
    record.claimed_by = staff.name
    record.claimed_at = now or utc_now()
    session.add(record)
    return ChangeOutcome.DONE, record


def close_case(
    case_id: int,
    staff: StaffMember,
    outcome: str,
    *,
    session: Session,
    now: datetime | None = None,
) -> tuple[ChangeOutcome, LegalAidCase | None]:
    record = get_case(case_id, session=session, for_update=True)
    if record is None:
        return ChangeOutcome.NOT_FOUND, None
    if record.status == CaseStatus.CLOSED:
        return ChangeOutcome.ALREADY_CLOSED, record
    moment = now or utc_now()
    if record.claimed_by is None:  # closed straight from pending: whoever closes it handled it
        record.claimed_by_id, record.claimed_by, record.claimed_at = staff.id, staff.name, moment
    record.status = CaseStatus.CLOSED.value
    record.closed_by = staff.name
    record.closed_at = moment
    record.outcome = outcome
    session.add(record)
    return ChangeOutcome.DONE, record


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
