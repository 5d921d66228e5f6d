"""The outbox: messages owed to people, leased by a sender, marked sent only after delivery."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, or_, select, update

from bot.storage.models import OutboxMessage, utc_now

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


def enqueue(
    *,
    dedupe_key: str,
    channel: str,
    address: str,
    kind: str,
    case_id: int | None = None,
    event: str | None = None,
    session: Session,
) -> bool:
    """Queue a message unless one with the same key exists; True when queued now."""
    existing = session.exec(
        select(OutboxMessage.id).where(col(OutboxMessage.dedupe_key) == dedupe_key)
    ).first()
    if existing is not None:
        return False
    savepoint = session.begin_nested()
    session.add(
        OutboxMessage(
            dedupe_key=dedupe_key,
            channel=channel,
            address=address,
            kind=kind,
            case_id=case_id,
            event=event,
        )
    )
    try:
        savepoint.commit()
    except IntegrityError:  # queued by another process a moment ago
        savepoint.rollback()
        return False
    return True


def lease_due(
    channel: str, *, lease: timedelta, limit: int, session: Session, now: datetime | None = None
) -> list[OutboxMessage]:
    """Take up to `limit` due messages for `channel`, oldest first. A message whose sender died
    mid-send (lease expired) is due again: that one may be delivered twice, nothing is lost."""
    moment = now or utc_now()
    due = or_(
        col(OutboxMessage.status) == PENDING,
        (col(OutboxMessage.status) == SENDING) & (col(OutboxMessage.lease_until) < moment),
    )
    candidates = session.exec(
        select(OutboxMessage.id)
        .where(
            col(OutboxMessage.channel) == channel, due, col(OutboxMessage.next_attempt_at) <= moment
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    ).all()
    leased: list[OutboxMessage] = []
    for message_id in candidates:
        # Conditional update: of two senders racing for a row, exactly one gets rowcount 1.
        result = session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, due)
            .values(status=SENDING, lease_until=moment + lease, attempts=OutboxMessage.attempts + 1)
        )
        if result.rowcount == 1:
            message = session.get(OutboxMessage, message_id)
            if message is not None:
                session.refresh(message)
                session.expunge(message)  # a snapshot the sender reads after the commit
                leased.append(message)
    return leased


def release(message_ids: Sequence[int], *, session: Session) -> None:
    """Give leased messages back to be sent by the next sender."""
    if message_ids:
        session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(message_ids), col(OutboxMessage.status) == SENDING)
            .values(status=PENDING, lease_until=None)
        )


def mark_sent(message_id: int, *, session: Session, now: datetime | None = None) -> None:
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status=SENT, sent_at=now or utc_now(), lease_until=None, last_error=None)
    )


def reschedule(message_id: int, at: datetime, error: str, *, session: Session) -> None:
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status=PENDING, next_attempt_at=at, lease_until=None, last_error=error[:200])
    )


def mark_failed(message_id: int, error: str, *, session: Session) -> None:
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status=FAILED, lease_until=None, last_error=error[:200])
    )


def drop_worker_notices(case_ids: Sequence[int], *, session: Session) -> int:
    """Unsent notices to a worker who asked to be forgotten (they carry the worker's address)."""
    if not case_ids:
        return 0
    result = session.exec(
        delete(OutboxMessage).where(
            col(OutboxMessage.case_id).in_(case_ids),
            col(OutboxMessage.kind) == "worker_notice",
            col(OutboxMessage.status) != SENT,
        )
    )
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.case_id).in_(case_ids), col(OutboxMessage.kind) == "worker_notice")
        .values(address="")
    )
    return int(result.rowcount or 0)


def list_messages(*, session: Session) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))
