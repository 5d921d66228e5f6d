"""Sending a broadcast: every pending delivery once, at Telegram's pace, resumable after a stop.

Pacing is ours, not the server's 429s: a steady global rate (Telegram allows 30 messages/s; we
keep a little under it so network jitter never pushes a second over) and at least
`per_chat_seconds` between two sends to one chat. A 429 pauses every send for its `retry_after`;
403 (the person blocked the bot) ends their subscription and the run goes on; network errors and
5xx are retried with backoff; a delivery is marked sent only after Telegram confirmed it.

Senders in several processes may run one broadcast together: each takes batches of deliveries
with a lease (bot/storage/claims.py), keeps the leases of what it holds alive while it runs,
checks it still holds a delivery just before sending it and records its result only while holding
it, so no delivery is sent by two of them.

Stopping (Ctrl-C, SIGTERM, a cancelled task) stops starting new sends, waits for those in flight,
records them and hands the rest of its claims back, so a rerun sends exactly what is still pending.
A killed sender's claims come free when their lease expires. Only a hard kill (SIGKILL, power
loss) between Telegram's answer and the database commit can leave a message that was sent still
pending: at most the handful in flight at that moment, which a rerun would send again.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Bot

from bot.campaigns.pacing import SendLimits, SendPacer
from bot.campaigns.progress import Progress
from bot.channels.delivery import RetryLater, Undeliverable
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram.sending import classified
from bot.events import log_event
from bot.storage.claims import Lease, kept_alive, new_lease
from bot.storage.engine import in_transaction
from bot.storage.models import BroadcastRecord, utc_now
from bot.storage.repositories import broadcasts as repository
from bot.storage.repositories.broadcasts import Audience, PendingDelivery
from handlers.texts import MENU

MAX_MESSAGE_CHARS = 4096
# Deliveries claimed at a time: a few seconds' sending at 28.5/s, so two senders share the work.
CLAIM_BATCH = 64
DEFAULT_LEASE_SECONDS = 60.0
UNSUBSCRIBE_FOOTER = "\n\n（回复“退订”不再接收）"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BroadcastReport:
    broadcast_id: int
    sent: int
    blocked: int
    gone: int
    failed: int
    still_pending: int
    seconds: float

    @property
    def messages_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def broadcast_text(text: str) -> str:
    """What subscribers see: the organisers' text and how to stop receiving."""
    return text.strip() + UNSUBSCRIBE_FOOTER


def check_broadcast_text(text: str) -> str | None:
    """Why the text can't be broadcast, or None."""
    if not text.strip():
        return "消息是空的"
    if len(broadcast_text(text)) > MAX_MESSAGE_CHARS:
        return f"消息太长：一条最多 {MAX_MESSAGE_CHARS - len(UNSUBSCRIBE_FOOTER)} 个字"
    return None


def audience() -> Audience:
    """Who broadcasts reach: Telegram's subscribers (the broadcaster sends with the Telegram bot),
    each menu topic they chose covering its knowledge topics."""
    return Audience(TELEGRAM, {key: topics for _, key, topics in MENU})


@dataclass(order=True)
class _Retry:
    ready_at: float
    order: int
    delivery: PendingDelivery = field(compare=False)
    attempt: int = field(compare=False)


class Broadcaster:
    """Sends one broadcast's pending deliveries with python-telegram-bot's Bot."""

    def __init__(
        self,
        engine: Engine,
        bot: Bot,
        *,
        limits: SendLimits | None = None,
        show_progress: bool = False,
        lease: Lease | None = None,
    ) -> None:
        self._engine = engine
        self.bot = bot
        self.limits = limits or SendLimits()
        self.show_progress = show_progress
        self.lease = lease or new_lease("broadcast", DEFAULT_LEASE_SECONDS)

    async def in_transaction(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._engine, work)

    async def run(self, broadcast_id: int) -> BroadcastReport:
        """Send what is pending; returns the counts of this run."""
        started = time.perf_counter()
        broadcast = await self.in_transaction(lambda s: s.get(BroadcastRecord, broadcast_id))
        if broadcast is None:
            raise LookupError(f"no broadcast {broadcast_id}")
        await wait_until(broadcast.not_before)
        counts = await self.in_transaction(
            lambda s: repository.delivery_counts(broadcast_id, session=s)
        )
        pending = counts.get(repository.PENDING, 0)
        run = _Run(self, broadcast_id, broadcast_text(broadcast.text), pending)
        log_event("broadcast_started", broadcast=broadcast_id, pending=pending)
        lease = self.lease

        async def renew_held() -> None:
            await self.in_transaction(
                lambda s: repository.renew_held(broadcast_id, lease=lease, session=s)
            )

        try:
            # Kept alive: a claimed delivery may wait longer than a lease for its turn (the
            # batch ahead of it, a retry's backoff, the pace shared with other processes).
            async with kept_alive(lease, renew_held):
                await run.send_all()
        finally:
            # What is left of our claims (given up, or not started before a stop) goes back.
            await self.in_transaction(
                lambda s: repository.release(broadcast_id, holder=lease.holder, session=s)
            )
            if run.progress is not None:
                run.progress.update(run.done, run.sent, final=True)
            counts = await self.in_transaction(
                lambda s: (
                    repository.finish_if_done(broadcast_id, session=s),
                    repository.delivery_counts(broadcast_id, session=s),
                )[1]
            )
            report = BroadcastReport(
                broadcast_id,
                sent=run.sent,
                blocked=run.blocked,
                gone=run.gone,
                failed=run.failed,
                still_pending=counts.get(repository.PENDING, 0),
                seconds=time.perf_counter() - started,
            )
            log_event(
                "broadcast_stopped",
                broadcast=broadcast_id,
                sent=report.sent,
                blocked=report.blocked,
                gone=report.gone,
                failed=report.failed,
                pending=report.still_pending,
                per_second=round(report.messages_per_second, 1),
            )
        return report


class _Run:
    """One run over the pending deliveries: the dispatcher and its in-flight sends."""

    def __init__(self, owner: Broadcaster, broadcast_id: int, text: str, pending: int) -> None:
        self._owner = owner
        self._broadcast_id = broadcast_id
        self._limits = owner.limits
        self._lease = owner.lease
        self._text = text
        self._fresh: list[PendingDelivery] = []  # claimed, not yet started; pop() takes the oldest
        self._claims_left = True  # until a claim comes back empty
        self._retries: list[_Retry] = []
        self._order = itertools.count()
        self._pacer = SendPacer(self._limits)
        self._policy = self._limits.retry_policy()
        self._slots = asyncio.Semaphore(self._limits.max_in_flight)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self.sent = self.blocked = self.gone = self.failed = self.done = 0
        self.progress = Progress(pending, label="广播") if owner.show_progress and pending else None

    async def _claim_more(self) -> None:
        """The next batch of deliveries no sender holds, claimed for this one."""
        broadcast_id, lease = self._broadcast_id, self._lease
        claim = asyncio.ensure_future(
            self._owner.in_transaction(
                lambda s: repository.claim_deliveries(
                    broadcast_id, lease=lease, limit=CLAIM_BATCH, session=s
                )
            )
        )
        try:
            ready, gone = await asyncio.shield(claim)
        except asyncio.CancelledError:
            # Let the claim commit first, so the release after a stop hands it back too.
            with contextlib.suppress(Exception):
                await claim
            raise
        self._fresh = list(reversed(ready))
        self._settle(gone=gone)
        self._claims_left = bool(ready or gone)

    async def send_all(self) -> None:
        try:
            while True:
                if not self._fresh and self._claims_left:
                    await self._claim_more()
                if not (self._fresh or self._retries or self._in_flight):
                    break
                job = self._next_ready()
                if job is None:
                    await self._wait_for_change()
                    continue
                delivery, attempt = job
                await self._slots.acquire()
                at = self._pacer.reserve(delivery.address)
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(self._send(delivery, attempt))
                self._in_flight.add(task)
                task.add_done_callback(self._finished)
        except asyncio.CancelledError:
            # Stopping: start nothing new, let the sends in flight finish and be recorded.
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            raise

    def _next_ready(self) -> tuple[PendingDelivery, int] | None:
        now = time.monotonic()
        if self._retries and self._retries[0].ready_at <= now:
            retry = heapq.heappop(self._retries)
            return retry.delivery, retry.attempt
        if self._fresh:
            return self._fresh.pop(), 1
        return None

    async def _wait_for_change(self) -> None:
        timeout = None
        if self._retries:
            timeout = max(0.0, self._retries[0].ready_at - time.monotonic())
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slots.release()
        self._changed.set()
        if not task.cancelled() and task.exception() is not None:
            log_event(
                "broadcast_send_crashed", logging.ERROR, error=type(task.exception()).__name__
            )

    def _retry(self, delivery: PendingDelivery, attempt: int, ready_at: float) -> None:
        ready_at = max(ready_at, self._pacer.chat_ready_at(delivery.address))
        heapq.heappush(self._retries, _Retry(ready_at, next(self._order), delivery, attempt))

    def _settle(self, *, sent: int = 0, blocked: int = 0, gone: int = 0, failed: int = 0) -> None:
        self.sent += sent
        self.blocked += blocked
        self.gone += gone
        self.failed += failed
        self.done += sent + blocked + gone + failed
        if self.progress is not None:
            self.progress.update(self.done, self.sent)

    async def _send(self, delivery: PendingDelivery, attempt: int) -> None:
        db = self._owner.in_transaction
        holder = self._lease.holder
        held, address = await db(lambda s: _hold(delivery, self._lease, session=s))
        if not held:  # our lease ran out (a stall) and another sender holds it now
            log_event("broadcast_lease_lost", delivery=delivery.delivery_id)
            return
        if address is None:  # unsubscribed since the broadcast was queued
            await db(
                lambda s: repository.set_status(
                    [delivery.delivery_id], repository.GONE, holder=holder, session=s
                )
            )
            self._settle(gone=1)
            return
        bot = self._owner.bot
        try:
            await classified(lambda: bot.send_message(chat_id=int(address), text=self._text))
        except RetryLater as error:
            if error.after is not None:  # a 429: every send waits
                self._pacer.pause(error.after)
                log_event("broadcast_flood_wait", seconds=error.after)
                self._retry(delivery, attempt, time.monotonic() + error.after)
            elif self._policy.is_exhausted(attempt):
                # Left pending: the next run tries again.
                log_event("broadcast_gave_up", error=str(error), attempts=attempt)
            else:  # 5xx, timeouts, connection errors
                self._retry(delivery, attempt + 1, time.monotonic() + self._policy.backoff(attempt))
            return
        except Undeliverable as error:
            if error.blocked:
                await db(
                    lambda s: repository.mark_blocked(
                        delivery.delivery_id, delivery.user_key, holder=holder, session=s
                    )
                )
                self._settle(blocked=1)
                return
            # Chat not found, deactivated account: retrying cannot help.
            await db(
                lambda s: repository.set_status(
                    [delivery.delivery_id], repository.FAILED, holder=holder, session=s
                )
            )
            self._settle(failed=1)
            return
        await db(
            lambda s: repository.set_status(
                [delivery.delivery_id], repository.SENT, holder=holder, session=s
            )
        )
        self._settle(sent=1)


def _hold(delivery: PendingDelivery, lease: Lease, *, session: Session) -> tuple[bool, str | None]:
    """Before a send, in one transaction: whether this sender still holds the delivery (its lease
    renewed), and where to send it now (None once the person unsubscribed)."""
    if not repository.renew(delivery.delivery_id, lease=lease, session=session):
        return False, None
    return True, repository.current_address(delivery.user_key, session=session)


async def wait_until(moment: datetime) -> None:
    """Sleep until a scheduled broadcast's time (now or past: at once)."""
    seconds = (moment - utc_now()).total_seconds()
    if seconds > 0:
        log_event("broadcast_waiting", seconds=round(seconds))
        await asyncio.sleep(seconds)
