"""What is still to be sent, for /metrics: the outbox's unsent rows and running broadcasts."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from bot.storage.models import BroadcastRecord, DeliveryRecord, OutboxMessage
from bot.storage.repositories import outbox

# Outbox rows in these states are done with; every other state is backlog.
OUTBOX_SETTLED = (outbox.SENT, outbox.FAILED)


def outbox_backlog(*, session: Session) -> dict[tuple[str, str], int]:
    """Unsent outbox rows by (channel, status): pending, and those being sent."""
    rows = session.exec(
        select(OutboxMessage.channel, OutboxMessage.status, func.count())
        .where(col(OutboxMessage.status).not_in(OUTBOX_SETTLED))
        .group_by(col(OutboxMessage.channel), col(OutboxMessage.status))
    ).all()
    return {(channel, status): int(count) for channel, status, count in rows}


def running_broadcasts(*, session: Session) -> dict[int, dict[str, int]]:
    """Deliveries by status for every broadcast not finished yet."""
    rows = session.exec(
        select(DeliveryRecord.broadcast_id, DeliveryRecord.status, func.count())
        .join(BroadcastRecord, col(BroadcastRecord.id) == col(DeliveryRecord.broadcast_id))
        .where(col(BroadcastRecord.finished_at).is_(None))
        .group_by(col(DeliveryRecord.broadcast_id), col(DeliveryRecord.status))
    ).all()
    progress: dict[int, dict[str, int]] = {}
    for broadcast_id, status, count in rows:
        progress.setdefault(broadcast_id, {})[status] = int(count)
    return progress
