"""The daily job digest: at the configured Tianjin hour, each person with preferences gets one
message with the new matching postings (never between 21:00 and 08:00).

Queueing writes one `job_digest` row per person per Tianjin day (unique, like a broadcast's
deliveries), so a rerun, a restart or a second process never sends a second digest that day.
Sending claims rows with a lease (bot/storage/claims.py, kept alive while held and checked before
every attempt), paces them with the broadcasts' limits (`SendPacer`), retries
429s, network errors and 5xx by the broadcasts' policy and marks a row sent only after the
platform confirmed it. WeChat allows pushed messages only within 48 hours of the person's last
message: outside it the digest is held and shown at their next message instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.campaigns.pacing import SendLimits, SendPacer
from bot.channels.delivery import RetryLater, Undeliverable
from bot.channels.outbox import OutboxTransport
from bot.events import log_event
from bot.storage import claims
from bot.storage.claims import ClaimTable, Lease, new_lease, worked_through
from bot.storage.engine import in_transaction, run_transaction
from bot.storage.job_board import HELD, digest_reply, live_views, matching_views, wanted_of
from bot.storage.job_models import JobDigestRecord
from bot.storage.models import utc_now
from bot.storage.repositories import job_postings as postings
from bot.storage.repositories import job_preferences as preferences
from handlers.campaigns import CHINA_TIME
from handlers.job_board import digest_text
from handlers.messages import Reply
from knowledge.jobs import JobTables

T = TypeVar("T")
WECHAT = "wechat"
WECHAT_WINDOW = timedelta(hours=48)
QUIET_FROM, QUIET_UNTIL = 21, 8  # Tianjin hours: nothing is pushed from 21:00 to 08:00
PENDING, SENDING, SENT, FAILED, GONE = "pending", "sending", "sent", "failed", "gone"
# Digests claimed per round: a second process's sender shares a large morning's work.
CLAIM_BATCH = 50


def is_quiet(now: datetime) -> bool:
    hour = now.astimezone(CHINA_TIME).hour
    return hour >= QUIET_FROM or hour < QUIET_UNTIL


def queue_digests(
    now: datetime,
    tables: JobTables,
    *,
    hour: int,
    limit: int,
    channels: frozenset[str],
    session: Session,
) -> int:
    """Today's digests for everyone due one (from `hour` on, outside quiet hours)."""
    local = now.astimezone(CHINA_TIME)
    if is_quiet(now) or local.hour < hour:
        return 0
    day = local.strftime("%Y%m%d")
    done = set(
        session.exec(select(JobDigestRecord.user_key).where(col(JobDigestRecord.day) == day)).all()
    )
    live = postings.live_postings(local.date(), session=session)
    queued = 0
    for person in preferences.all_preferences(session=session):
        if person.user_key in done or person.address is None or person.channel not in channels:
            continue
        shown = preferences.shown_ids(person.user_key, session=session)
        views = matching_views(wanted_of(person), live, tables, limit=limit, excluded=shown)
        if not views:
            continue
        away = person.channel == WECHAT and now - person.last_seen_at > WECHAT_WINDOW
        ids = [view.id for view in views]
        session.add(
            JobDigestRecord(
                user_key=person.user_key,
                day=day,
                channel=person.channel,
                address=person.address,
                text=digest_text(views),
                posting_ids=ids,
                status=HELD if away else PENDING,
            )
        )
        preferences.mark_shown(person.user_key, ids, session=session)
        queued += 1
    return queued


# Claimed digests are `sending`; a release makes them `pending` again.
DIGESTS = ClaimTable(
    JobDigestRecord,
    open=col(JobDigestRecord.status).in_((PENDING, SENDING)),
    on_claim={"status": SENDING},
    on_release={"status": PENDING},
)


def claim_due(
    channel: str, now: datetime, *, lease: Lease, limit: int = CLAIM_BATCH, session: Session
) -> list[JobDigestRecord]:
    """Pending digests of one channel (and ones whose sender died), claimed by this sender with a
    lease (bot/storage/claims.py): two processes never both take the same one."""
    of_channel = col(JobDigestRecord.channel) == channel
    ids = claims.claim(
        DIGESTS, among=of_channel, lease=lease, limit=limit, session=session, now=now
    )
    if not ids:
        return []
    return list(
        session.exec(
            select(JobDigestRecord)
            .where(col(JobDigestRecord.id).in_(ids))
            .order_by(col(JobDigestRecord.id))
            .execution_options(populate_existing=True)
        )
    )


def renew(digest_ids: Sequence[int], now: datetime, *, lease: Lease, session: Session) -> int:
    """Extend the lease of these digests this sender still holds; how many it holds."""
    these = col(JobDigestRecord.id).in_(digest_ids)
    return claims.renew(DIGESTS, among=these, lease=lease, session=session, now=now)


def release(digest_ids: Sequence[int], *, holder: str, session: Session) -> int:
    """Hand back the digests this sender claimed and did not get to (it stopped or failed)."""
    these = col(JobDigestRecord.id).in_(digest_ids)
    return claims.release(DIGESTS, among=these, holder=holder, session=session)


def settle(digest_id: int, status: str, now: datetime, *, holder: str, session: Session) -> bool:
    """A send's result, written only by the row's holder; False when it holds it no longer."""
    values: dict[str, object] = {"status": status, "attempts": col(JobDigestRecord.attempts) + 1}
    if status == SENT:
        values["sent_at"] = now
    one = col(JobDigestRecord.id) == digest_id
    settled = claims.settle(DIGESTS, among=one, holder=holder, values=values, session=session) == 1
    if settled and status == SENT:
        postings.record_event(postings.DIGEST_SENT, posting_id=None, user_key=None, session=session)
    return settled


class JobDigests:
    """Queues and sends the digests; `tick` is one round (tests call it with their own clock)."""

    def __init__(
        self,
        engine: Engine,
        tables: JobTables,
        *,
        hour: int,
        limit: int,
        limits: SendLimits | None = None,
        check_seconds: float = 60.0,
        lease_seconds: float = 60.0,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._tables = tables
        self._hour = hour
        self._limit = limit
        self._limits = limits or SendLimits()
        self._check_seconds = check_seconds
        self._now = now
        self._pacer = SendPacer(self._limits)
        self._lease = new_lease("job-digests", lease_seconds)

    async def _db(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._engine, work)

    def queue(self, channels: frozenset[str]) -> int:
        now = self._now()
        try:
            return run_transaction(
                self._engine,
                lambda s: queue_digests(
                    now,
                    self._tables,
                    hour=self._hour,
                    limit=self._limit,
                    channels=channels,
                    session=s,
                ),
            )
        except IntegrityError:  # another process queued the same day meanwhile: theirs stand
            return 0

    async def tick(self, transport: OutboxTransport) -> int:
        """Queue today's digests if due, then send this channel's; returns how many were sent."""
        await asyncio.to_thread(self.queue, frozenset({transport.channel}))
        if is_quiet(self._now()):
            return 0  # queued digests wait for the morning
        lease = self._lease
        due = await self._db(
            lambda s: claim_due(transport.channel, self._now(), lease=lease, session=s)
        )

        async def renew_unfinished(ids: list[int]) -> None:
            await self._db(lambda s: renew(ids, self._now(), lease=lease, session=s))

        def release_unfinished(ids: list[int]) -> None:
            run_transaction(self._engine, lambda s: release(ids, holder=lease.holder, session=s))

        ids = [digest.id for digest in due if digest.id is not None]
        sent = 0
        async with worked_through(
            ids, lease, renew=renew_unfinished, release=release_unfinished
        ) as unfinished:
            for digest in due:
                sent += await self._send(transport, digest)
                unfinished.pop(0)
        if due:
            log_event("job_digests_sent", channel=transport.channel, due=len(due), sent=sent)
        return sent

    async def run(self, transport: OutboxTransport) -> None:
        """`tick` every `check_seconds` until cancelled."""
        while True:
            try:
                await self.tick(transport)
            except Exception as error:  # a bad round must not end the loop: the next one retries
                log_event("job_digests_failed", error=type(error).__name__)
                # What the round held may not have been handed back: let it lapse.
                self._lease = self._lease.renamed()
            await asyncio.sleep(self._check_seconds)

    async def _send(self, transport: OutboxTransport, digest: JobDigestRecord) -> int:
        assert digest.id is not None
        digest_id = digest.id
        views = await self._db(lambda s: live_views(digest.posting_ids, self._now(), session=s))
        if not views:  # every posting expired or was hidden since: nothing to say
            await self._db(lambda s: self._settle_as(digest_id, GONE, s))
            return 0
        outcome = await self._deliver(transport, digest_id, digest.address, digest_reply(views))
        if outcome is None:  # our lease ran out and another sender holds the digest now
            log_event("job_digest_lease_lost", id=digest_id)
            return 0
        status, blocked = outcome
        await self._db(lambda s: self._settle(digest, status, blocked=blocked, session=s))
        return 1 if status == SENT else 0

    async def _deliver(
        self, transport: OutboxTransport, digest_id: int, address: str, reply: Reply
    ) -> tuple[str, bool] | None:
        """Send at the broadcasts' pace and retry policy: the row's new status, and whether the
        person blocked the bot; None when the lease was lost before a send (nothing sent)."""
        policy = self._limits.retry_policy()
        attempt = 1
        while True:
            delay = self._pacer.reserve(address) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            # Still ours? Checked before every attempt: a stall may have outlasted the lease.
            if not await self._db(
                lambda s: renew([digest_id], self._now(), lease=self._lease, session=s)
            ):
                return None
            try:
                await transport.send(address, reply)
            except RetryLater as error:
                if error.after is not None:  # a 429: every send waits
                    self._pacer.pause(error.after)
                elif policy.is_exhausted(attempt):
                    return PENDING, False  # the next round tries again
                await asyncio.sleep(error.after or policy.backoff(attempt))
                attempt += 1
                continue
            except Undeliverable as error:
                return FAILED, error.blocked
            return SENT, False

    def _settle(
        self, digest: JobDigestRecord, status: str, *, blocked: bool, session: Session
    ) -> None:
        assert digest.id is not None
        if status != FAILED:
            self._settle_as(digest.id, status, session)
            return
        if digest.channel == WECHAT:  # outside the 48 hours after all: shown at the next message
            self._settle_as(digest.id, HELD, session)
            return
        if self._settle_as(digest.id, FAILED, session) and blocked:
            # The person blocked the bot: no more digests.
            preferences.delete_preferences(digest.user_key, session=session)

    def _settle_as(self, digest_id: int, status: str, session: Session) -> bool:
        return settle(digest_id, status, self._now(), holder=self._lease.holder, session=session)
