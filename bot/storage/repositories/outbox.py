"""The outbox: messages owed to people, claimed by one sender with a lease (bot/storage/claims.py),
marked sent only after delivery and only by the sender holding them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select, update

from bot.storage import claims
from bot.storage.claims import ClaimTable, Lease
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


# Claimed rows are `sending`; a release makes them `pending` again.
OUTBOX = ClaimTable(
    OutboxMessage,
    open=col(OutboxMessage.status).in_((PENDING, SENDING)),
    on_claim={"status": SENDING, "attempts": col(OutboxMessage.attempts) + 1},
    on_release={"status": PENDING},
)


def lease_due(
    channel: str, *, lease: Lease, limit: int, session: Session, now: datetime | None = None
) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for `channel`, oldest first (bot/storage/claims.py). A
    message whose sender died mid-send (lease expired) is due again: that one may be delivered
    twice, nothing is lost."""
    moment = now or utc_now()
    due = (col(OutboxMessage.channel) == channel) & (col(OutboxMessage.next_attempt_at) <= moment)
    ids = claims.claim(OUTBOX, among=due, lease=lease, limit=limit, session=session, now=moment)
    if not ids:
        return []
    leased = list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids))
            .order_by(col(OutboxMessage.id))
            .execution_options(populate_existing=True)
        )
    )
    for message in leased:
        session.expunge(message)  # a snapshot the sender reads after the commit
    return leased


def renew(message_id: int, *, lease: Lease, session: Session, now: datetime | None = None) -> bool:
    """Just before sending: extend the lease; False when this sender no longer holds it (it
    expired and another sender took it), and then it must not send."""
    one = col(OutboxMessage.id) == message_id
    return claims.renew(OUTBOX, among=one, lease=lease, session=session, now=now) == 1


def renew_all(message_ids: Sequence[int], *, lease: Lease, session: Session) -> None:
    """Extend the lease of every one of these messages this sender still holds."""
    if message_ids:
        these = col(OutboxMessage.id).in_(message_ids)
        claims.renew(OUTBOX, among=these, lease=lease, session=session)


def release(message_ids: Sequence[int], *, holder: str, session: Session) -> None:
    """Give leased messages back to be sent by the next sender."""
    if message_ids:
        these = col(OutboxMessage.id).in_(message_ids)
        claims.release(OUTBOX, among=these, holder=holder, session=session)


def _settle(message_id: int, holder: str, session: Session, **values: object) -> bool:
    """Write a send's result, only by the lease holder; False when it held it no longer."""
    one = col(OutboxMessage.id) == message_id
    return claims.settle(OUTBOX, among=one, holder=holder, values=values, session=session) == 1


def mark_sent(
    message_id: int, *, holder: str, session: Session, now: datetime | None = None
) -> bool:
    return _settle(
        message_id, holder, session, status=SENT, sent_at=now or utc_now(), last_error=None
    )


def reschedule(message_id: int, at: datetime, error: str, *, holder: str, session: Session) -> bool:
    return _settle(
        message_id, holder, session, status=PENDING, next_attempt_at=at, last_error=error[:200]
    )


def mark_failed(message_id: int, error: str, *, holder: str, session: Session) -> bool:
    return _settle(message_id, holder, session, status=FAILED, last_error=error[:200])


def held_count(*, session: Session) -> int:
    """Messages some sender holds right now (`sending`): zero once every sender is done."""
    return int(
        session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.status) == SENDING)
        ).one()
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
