"""Legal-aid cases in the database: numbering, status changes, anonymisation, listing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select, update

from bot.storage.models import CaseCounter, LegalAidCase, UserRecord, utc_now

NUMBER_PREFIX = "LA"
NUMBER_ATTEMPTS = 5
# The stored statuses (the case desk reads them as the handlers' CaseStatus).
PENDING, CLAIMED, CLOSED = "pending", "claimed", "closed"


class CaseNumberError(RuntimeError):
    """No free case number after several tries (only under extreme concurrent submission)."""


def case_number(day: str, sequence: int) -> str:
    """`day` is the date cases are numbered under (YYYYMMDD; the desk says which calendar)."""
    return f"{NUMBER_PREFIX}-{day}-{sequence:04d}"


def _next_sequence(key: str, *, session: Session) -> int:
    """The day's next sequence number: an atomic increment of the day's counter row, so
    concurrent submissions (threads or processes) never get the same number."""
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


def take_number(day: str, *, session: Session) -> str:
    """The next case number of `day` (YYYYMMDD)."""
    return case_number(day, _next_sequence(day, session=session))


def insert_case(record: LegalAidCase, *, session: Session) -> LegalAidCase:
    """Insert a new case; its source is the deep link that brought the worker, if any."""
    user = session.get(UserRecord, record.user_key) if record.user_key else None
    record.source = user.source if user else None
    session.add(record)
    session.flush()
    return record


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


# What a change returns: whether it took, and the case as it is now (None: no such case).
Changed = tuple[bool, LegalAidCase | None]


def _transition(
    case_id: int, allowed_from: tuple[str, ...], values: dict[str, object], *, session: Session
) -> Changed:
    """A status change as one conditional UPDATE: of two staff pressing at once, exactly one
    matches the old status (on SQLite and PostgreSQL alike)."""
    result = session.exec(
        update(LegalAidCase)
        .where(col(LegalAidCase.id) == case_id, col(LegalAidCase.status).in_(allowed_from))
        .values(**values)
    )
    record = session.get(LegalAidCase, case_id)
    if record is not None:
        session.refresh(record)
    return result.rowcount == 1, record


def claim_case(
    case_id: int,
    *,
    staff_id: str,
    staff_name: str,
    session: Session,
    now: datetime | None = None,
) -> Changed:
    values: dict[str, object] = {
        "status": CLAIMED,
        "claimed_by_id": staff_id,
        "claimed_by": staff_name,
        "claimed_at": now or utc_now(),
    }
    return _transition(case_id, (PENDING,), values, session=session)


def close_case(
    case_id: int,
    outcome: str,
    *,
    staff_id: str,
    staff_name: str,
    session: Session,
    now: datetime | None = None,
) -> Changed:
    moment = now or utc_now()
    values: dict[str, object] = {
        "status": CLOSED,
        "closed_by": staff_name,
        "closed_at": moment,
        "outcome": outcome,
        # Closed straight from pending: whoever closes it handled it.
        "claimed_by_id": func.coalesce(LegalAidCase.claimed_by_id, staff_id),
        "claimed_by": func.coalesce(LegalAidCase.claimed_by, staff_name),
        "claimed_at": func.coalesce(LegalAidCase.claimed_at, moment),
    }
    return _transition(case_id, (PENDING, CLAIMED), values, session=session)


def add_note(
    case_id: int, text: str, *, author: str, session: Session, now: datetime | None = None
) -> Changed:
    record = get_case(case_id, session=session, for_update=True)
    if record is None:
        return False, None
    moment = now or utc_now()
    # A new list, so the JSON column sees the change.
    record.notes = [*record.notes, {"author": author, "at": moment.isoformat(), "text": text}]
    session.add(record)
    return True, record


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
            col(LegalAidCase.status) == CLOSED,
            col(LegalAidCase.closed_at) < cutoff,
            col(LegalAidCase.anonymised_at).is_(None),
        )
    ).all()
    moment = now or utc_now()
    for record in records:
        _anonymise(record, moment)
        session.add(record)
    return len(records)
