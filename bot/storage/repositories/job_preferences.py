"""Workers' job preferences, what each was shown, and forgetting them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, delete, select, update

from bot.storage.job_models import (
    JobDigestRecord,
    JobEventRecord,
    JobPreferenceRecord,
    JobShownRecord,
)
from bot.storage.models import utc_now


def save_preferences(
    user_key: str,
    channel: str,
    *,
    address: str | None,
    districts: list[str],
    trades: list[str],
    min_monthly_pay: int,
    at: datetime | None = None,
    session: Session,
) -> None:
    record = session.get(JobPreferenceRecord, user_key)
    now = at or utc_now()
    if record is None:
        record = JobPreferenceRecord(user_key=user_key, channel=channel, consent_at=now)
    record.channel, record.address = channel, address
    record.districts, record.trades = list(districts), list(trades)
    record.min_monthly_pay = min_monthly_pay
    record.updated_at = record.last_seen_at = now
    session.add(record)


def preferences_of(user_key: str, *, session: Session) -> JobPreferenceRecord | None:
    return session.get(JobPreferenceRecord, user_key)


def all_preferences(*, session: Session) -> list[JobPreferenceRecord]:
    return list(session.exec(select(JobPreferenceRecord)).all())


def delete_preferences(user_key: str, *, session: Session) -> bool:
    """/jobs off: preferences, held and unsent digests and the shown list go."""
    existed = session.get(JobPreferenceRecord, user_key) is not None
    session.exec(delete(JobPreferenceRecord).where(col(JobPreferenceRecord.user_key) == user_key))
    session.exec(delete(JobShownRecord).where(col(JobShownRecord.user_key) == user_key))
    session.exec(
        delete(JobDigestRecord).where(
            col(JobDigestRecord.user_key) == user_key,
            col(JobDigestRecord.status).in_(("pending", "held")),
        )
    )
    return existed


def forget_jobs(user_key: str, *, session: Session) -> None:
    """/forget: everything kept on the person; events stay as anonymous counts."""
    delete_preferences(user_key, session=session)
    session.exec(delete(JobDigestRecord).where(col(JobDigestRecord.user_key) == user_key))
    session.exec(
        update(JobEventRecord).where(col(JobEventRecord.user_key) == user_key).values(user_key=None)
    )


def touch(user_key: str, *, at: datetime, session: Session) -> bool:
    """Note the person's message (the WeChat window); False when they have no preferences."""
    result = session.exec(
        update(JobPreferenceRecord)
        .where(col(JobPreferenceRecord.user_key) == user_key)
        .values(last_seen_at=at)
    )
    return bool(result.rowcount)


def shown_ids(user_key: str, *, session: Session) -> set[int]:
    return set(
        session.exec(
            select(JobShownRecord.posting_id).where(col(JobShownRecord.user_key) == user_key)
        ).all()
    )


def mark_shown(user_key: str, posting_ids: Iterable[int], *, session: Session) -> None:
    already = shown_ids(user_key, session=session)
    session.add_all(
        JobShownRecord(user_key=user_key, posting_id=posting_id)
        for posting_id in dict.fromkeys(posting_ids)
        if posting_id not in already
    )
