"""Job postings: imported all-or-nothing, updated by 岗位编号, live only until their date."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.storage.job_models import JobEventRecord, JobPostingRecord
from bot.storage.models import utc_now

OPENED = "opened"
REPORTED = "reported"
PREFERENCES_SET = "preferences_set"
DIGEST_SENT = "digest_sent"


@dataclass(frozen=True, slots=True)
class PostingRow:
    """One checked spreadsheet row."""

    code: str
    title: str
    employer: str
    district: str
    address: str
    trade: str
    trade_key: str
    pay_min: float
    pay_max: float
    pay_unit: str
    shift: str
    board: str
    phone: str
    valid_until: date
    source: str


@dataclass(frozen=True, slots=True)
class ImportCounts:
    created: int
    updated: int
    unchanged: int


def upsert_postings(
    rows: Sequence[PostingRow], *, file_name: str, session: Session
) -> ImportCounts:
    """Insert new codes, update changed ones (a re-import also lifts a manual expiry)."""
    created = updated = unchanged = 0
    now = utc_now()
    names = [f.name for f in fields(PostingRow)]
    for row in rows:
        record = session.exec(
            select(JobPostingRecord).where(col(JobPostingRecord.code) == row.code)
        ).first()
        if record is None:
            session.add(
                JobPostingRecord(**{n: getattr(row, n) for n in names}, import_file=file_name)
            )
            created += 1
            continue
        if all(getattr(record, n) == getattr(row, n) for n in names) and record.expired_at is None:
            unchanged += 1
            continue
        for name in names:
            setattr(record, name, getattr(row, name))
        record.import_file, record.updated_at, record.expired_at = file_name, now, None
        session.add(record)
        updated += 1
    return ImportCounts(created, updated, unchanged)


def is_live(record: JobPostingRecord, today: date) -> bool:
    return record.valid_until >= today and record.expired_at is None and record.hidden_at is None


def live_postings(today: date, *, session: Session) -> list[JobPostingRecord]:
    """Postings a worker may see: not past their date, not expired, not hidden by staff."""
    return list(
        session.exec(
            select(JobPostingRecord).where(
                col(JobPostingRecord.valid_until) >= today,
                col(JobPostingRecord.expired_at).is_(None),
                col(JobPostingRecord.hidden_at).is_(None),
            )
        ).all()
    )


def all_postings(*, session: Session) -> list[JobPostingRecord]:
    return list(
        session.exec(select(JobPostingRecord).order_by(col(JobPostingRecord.id).desc())).all()
    )


def posting_by_code(code: str, *, session: Session) -> JobPostingRecord | None:
    return session.exec(select(JobPostingRecord).where(col(JobPostingRecord.code) == code)).first()


def expire(code: str, *, session: Session) -> bool:
    record = posting_by_code(code, session=session)
    if record is None:
        return False
    record.expired_at = record.expired_at or utc_now()
    session.add(record)
    return True


def set_hidden(posting_id: int, *, hidden: bool, by: str, session: Session) -> bool:
    """Staff hide a posting from every worker (or show it again)."""
    record = session.get(JobPostingRecord, posting_id)
    if record is None:
        return False
    record.hidden_at, record.hidden_by = (utc_now(), by) if hidden else (None, None)
    session.add(record)
    return True


def record_event(
    kind: str, *, posting_id: int | None, user_key: str | None, session: Session
) -> None:
    session.add(JobEventRecord(kind=kind, posting_id=posting_id, user_key=user_key))


def report_counts(*, session: Session) -> dict[int, int]:
    """Reports per posting id."""
    counts: dict[int, int] = {}
    for posting_id in session.exec(
        select(JobEventRecord.posting_id).where(col(JobEventRecord.kind) == REPORTED)
    ).all():
        if posting_id is not None:
            counts[posting_id] = counts.get(posting_id, 0) + 1
    return counts


def events_since(since: datetime, *, session: Session) -> list[JobEventRecord]:
    return list(session.exec(select(JobEventRecord).where(col(JobEventRecord.at) >= since)).all())
