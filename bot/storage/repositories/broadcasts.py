"""Subscriptions, broadcasts and their deliveries: one row per subscriber per broadcast, so a run
that stops midway resumes where it stopped and nobody gets a message twice. Senders in several
processes share a broadcast: each delivery is claimed by one of them (bot/storage/claims.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select, update

from bot.storage import claims
from bot.storage.claims import ClaimTable, Lease
from bot.storage.models import (
    BroadcastRecord,
    CampaignRecord,
    DeliveryRecord,
    SubscriptionRecord,
    utc_now,
)
from bot.storage.repositories.campaigns import latest_campaign_of

PENDING = "pending"
SENT = "sent"
BLOCKED = "blocked"
GONE = "gone"
FAILED = "failed"
# A claimed delivery stays `pending`; its holder is what marks it taken.
DELIVERIES = ClaimTable(DeliveryRecord, open=col(DeliveryRecord.status) == PENDING)


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    delivery_id: int
    user_key: str
    address: str


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a broadcast may reach, from the caller: the channel it is sent through, and what each
    subscription topic (a menu key) covers among the campaigns' knowledge topics."""

    channel: str
    topics_of: Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class QueuedBroadcast:
    broadcast: BroadcastRecord
    created: bool


def subscribe(
    user_key: str, channel: str, *, address: str, topics: Sequence[str], session: Session
) -> None:
    record = session.get(SubscriptionRecord, user_key)
    if record is None:
        record = SubscriptionRecord(
            user_key=user_key,
            channel=channel,
            campaign_code=latest_campaign_of(user_key, session=session),
        )
    elif not record.active:
        record.subscribed_at = utc_now()
        record.campaign_code = latest_campaign_of(user_key, session=session)
    record.channel = channel
    record.address = address
    record.topics = list(topics)
    record.active = True
    record.unsubscribed_at = None
    session.add(record)


def subscribed_topics(user_key: str, *, session: Session) -> list[str] | None:
    record = session.get(SubscriptionRecord, user_key)
    return list(record.topics) if record is not None and record.active else None


def unsubscribe(user_key: str, *, session: Session) -> bool:
    """Opt out: the address is deleted at once; the row stays for the campaign's figures."""
    record = session.get(SubscriptionRecord, user_key)
    if record is None or not record.active:
        return False
    record.active = False
    record.address = None
    record.unsubscribed_at = utc_now()
    session.add(record)
    return True


def is_interested(
    subscription_topics: Sequence[str],
    campaign_topics: Sequence[str],
    topics_of: Mapping[str, Sequence[str]],
) -> bool:
    """Every campaign for 'all'; otherwise a chosen menu topic must cover one of the campaign's."""
    if not subscription_topics or not campaign_topics:
        return True
    covered = {topic for key in subscription_topics for topic in topics_of.get(key, ())}
    return bool(covered & set(campaign_topics))


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def queue_broadcast(
    campaign: CampaignRecord,
    text: str,
    *,
    not_before: datetime | None,
    audience: Audience,
    session: Session,
) -> QueuedBroadcast:
    """The broadcast of this text for this campaign: the earlier one if it exists (a rerun
    resumes it), else a new one with one pending delivery per interested subscriber."""
    digest = text_hash(text)
    existing = session.exec(
        select(BroadcastRecord)
        .where(
            col(BroadcastRecord.campaign_code) == campaign.code,
            col(BroadcastRecord.text_hash) == digest,
        )
        .order_by(col(BroadcastRecord.id).desc())
    ).first()
    if existing is not None:
        return QueuedBroadcast(existing, created=False)
    broadcast = BroadcastRecord(
        campaign_code=campaign.code, text=text, text_hash=digest, not_before=not_before or utc_now()
    )
    session.add(broadcast)
    session.flush()
    assert broadcast.id is not None
    subscribers = session.exec(
        select(SubscriptionRecord.user_key, SubscriptionRecord.topics).where(
            col(SubscriptionRecord.active),
            col(SubscriptionRecord.address).is_not(None),
            # Only the sending channel's subscribers: another channel's address (a WeChat
            # openid) is no Telegram chat id, and sending to it would crash the delivery.
            col(SubscriptionRecord.channel) == audience.channel,
        )
    ).all()
    session.add_all(
        DeliveryRecord(broadcast_id=broadcast.id, user_key=user_key)
        for user_key, topics in subscribers
        if is_interested(topics, campaign.topics, audience.topics_of)
    )
    return QueuedBroadcast(broadcast, created=True)


def pending_deliveries(broadcast_id: int, *, session: Session) -> tuple[list[PendingDelivery], int]:
    """Deliveries still to send and held by no sender, with the address; those who unsubscribed
    meanwhile become gone (returned: how many)."""
    ready, gone = _ready_and_gone(
        col(DeliveryRecord.broadcast_id) == broadcast_id,
        DELIVERIES.free(utc_now()),
        session=session,
    )
    if gone:
        session.exec(
            update(DeliveryRecord)
            .where(col(DeliveryRecord.id).in_(gone), col(DeliveryRecord.status) == PENDING)
            .values(status=GONE)
        )
    return ready, len(gone)


def claim_deliveries(
    broadcast_id: int, *, lease: Lease, limit: int, session: Session, now: datetime | None = None
) -> tuple[list[PendingDelivery], int]:
    """Claim up to `limit` pending deliveries no sender holds, oldest first, for this sender
    (bot/storage/claims.py); those who unsubscribed meanwhile become gone (returned: how many).
    Empty only when nothing is left to claim."""
    of_broadcast = col(DeliveryRecord.broadcast_id) == broadcast_id
    ids = claims.claim(
        DELIVERIES, among=of_broadcast, lease=lease, limit=limit, session=session, now=now
    )
    if not ids:
        return [], 0
    ready, gone = _ready_and_gone(col(DeliveryRecord.id).in_(ids), session=session)
    if gone:
        set_status(gone, GONE, holder=lease.holder, session=session)
    return ready, len(gone)


def renew(delivery_id: int, *, lease: Lease, session: Session, now: datetime | None = None) -> bool:
    """Just before sending: extend the lease; False when this sender no longer holds it (it
    expired and another sender took it), and then it must not send."""
    one = col(DeliveryRecord.id) == delivery_id
    return claims.renew(DELIVERIES, among=one, lease=lease, session=session, now=now) == 1


def renew_held(broadcast_id: int, *, lease: Lease, session: Session) -> int:
    """Extend the lease of every delivery of the broadcast this sender holds (waiting for its
    turn, for a retry, or in flight)."""
    of_broadcast = col(DeliveryRecord.broadcast_id) == broadcast_id
    return claims.renew(DELIVERIES, among=of_broadcast, lease=lease, session=session)


def release(broadcast_id: int, *, holder: str, session: Session) -> int:
    """Hand back what this sender still holds of a broadcast (it stopped, or gave up on some)."""
    of_broadcast = col(DeliveryRecord.broadcast_id) == broadcast_id
    return claims.release(DELIVERIES, among=of_broadcast, holder=holder, session=session)


def held_count(broadcast_id: int, *, session: Session) -> int:
    """Pending deliveries some sender holds under a lease right now."""
    return int(
        session.exec(
            select(func.count())
            .select_from(DeliveryRecord)
            .where(
                col(DeliveryRecord.broadcast_id) == broadcast_id,
                col(DeliveryRecord.status) == PENDING,
                col(DeliveryRecord.claimed_by).is_not(None),
            )
        ).one()
    )


def _ready_and_gone(
    *where: ColumnElement[bool], session: Session
) -> tuple[list[PendingDelivery], list[int]]:
    """The deliveries `where` selects, oldest first: those with an address to send to, and the
    ids of those whose person unsubscribed meanwhile."""
    rows = session.exec(
        select(DeliveryRecord.id, DeliveryRecord.user_key, SubscriptionRecord.address)
        .join(
            SubscriptionRecord,
            col(SubscriptionRecord.user_key) == col(DeliveryRecord.user_key),
            isouter=True,
        )
        .where(*where)
        .order_by(col(DeliveryRecord.id))
    ).all()
    return _split_gone(rows)


def _split_gone(
    rows: Sequence[tuple[int | None, str, str | None]],
) -> tuple[list[PendingDelivery], list[int]]:
    ready: list[PendingDelivery] = []
    gone: list[int] = []
    for delivery_id, user_key, address in rows:
        assert delivery_id is not None
        if address:
            ready.append(PendingDelivery(delivery_id, user_key, address))
        else:
            gone.append(delivery_id)
    return ready, gone


def current_address(user_key: str, *, session: Session) -> str | None:
    """Where to send right now: None once the person unsubscribed (or blocked the bot)."""
    record = session.get(SubscriptionRecord, user_key)
    return record.address if record is not None and record.active else None


def set_status(delivery_ids: Sequence[int], status: str, *, holder: str, session: Session) -> bool:
    """A send's result, written only by the deliveries' holder; False when it held none."""
    values: dict[str, object] = {"status": status, "attempts": col(DeliveryRecord.attempts) + 1}
    if status == SENT:
        values["sent_at"] = utc_now()
    these = col(DeliveryRecord.id).in_(delivery_ids)
    return bool(
        claims.settle(DELIVERIES, among=these, holder=holder, values=values, session=session)
    )


def mark_blocked(delivery_id: int, user_key: str, *, holder: str, session: Session) -> None:
    """403: the person blocked the bot; they stop being a subscriber and their address goes."""
    if set_status([delivery_id], BLOCKED, holder=holder, session=session):
        unsubscribe(user_key, session=session)


def delivery_counts(broadcast_id: int, *, session: Session) -> dict[str, int]:
    rows = session.exec(
        select(DeliveryRecord.status, func.count())
        .where(col(DeliveryRecord.broadcast_id) == broadcast_id)
        .group_by(col(DeliveryRecord.status))
    ).all()
    return {status: int(count) for status, count in rows}


def finish_if_done(broadcast_id: int, *, session: Session) -> bool:
    if delivery_counts(broadcast_id, session=session).get(PENDING, 0):
        return False
    broadcast = session.get(BroadcastRecord, broadcast_id)
    if broadcast is not None and broadcast.finished_at is None:
        broadcast.finished_at = utc_now()
        session.add(broadcast)
    return True
