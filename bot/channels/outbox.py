"""The background sender: delivers what the outbox owes, with retries and backoff.

Every process runs one per channel. A message is claimed with a lease (bot/storage/claims.py),
its lease renewed just before the send, then marked sent by its holder only; a 429 waits its
`retry_after`, network errors and 5xx back off exponentially, a refusal (blocked bot, bad request)
marks it failed. A stop hands unfinished claims back; a crash leaves them until their lease
expires, then any process's sender picks them up: delayed, never lost. Texts are rendered at send
time from the case, so a card shows the case as it is then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.channels.delivery import RetryLater, RetryPolicy, Undeliverable
from bot.events import log_event
from bot.storage.case_desk import CARD, CARD_REFRESH, WORKER_NOTICE, case_view
from bot.storage.claims import Lease, new_lease, worked_through
from bot.storage.engine import in_transaction, run_transaction
from bot.storage.models import LegalAidCase, OutboxMessage, utc_now
from bot.storage.repositories import outbox
from handlers.casework import CaseEvent, staff_card, worker_notice
from handlers.messages import Reply

T = TypeVar("T")


class OutboxTransport(Protocol):
    """One channel's way out; raises RetryLater or Undeliverable on failure."""

    channel: str

    async def send(self, address: str, reply: Reply) -> str:
        """Send; returns the platform's id of the (last) message sent."""

    async def edit(self, address: str, message_id: str, reply: Reply) -> None:
        """Replace an earlier message's text and buttons."""


# Backed-off failures (not 429s, which say when to come back) before giving up: with these
# figures that is about 3 hours of trying.
OUTBOX_RETRIES = RetryPolicy(first_backoff=2.0, max_backoff=600.0, max_attempts=25)
# How long a sender holds the messages it took unless given `[senders] lease_seconds`.
DEFAULT_LEASE_SECONDS = 60.0


class OutboxBell:
    """Wakes every outbox sender of this process at once (the case desk rings after a commit)."""

    def __init__(self) -> None:
        self._listeners: list[asyncio.Event] = []

    def listener(self) -> asyncio.Event:
        event = asyncio.Event()
        self._listeners.append(event)
        return event

    def ring(self) -> None:
        for event in self._listeners:
            event.set()


class OutboxSender:
    """Sends one channel's outbox; `run` until cancelled, `wake` after queueing."""

    def __init__(
        self,
        engine: Engine,
        transport: OutboxTransport,
        *,
        to_traditional: Callable[[str], str],
        policy: RetryPolicy = OUTBOX_RETRIES,
        lease: Lease | None = None,
        poll_seconds: float = 5.0,
        batch: int = 20,
        wakeup: asyncio.Event | None = None,
    ) -> None:
        self._engine = engine
        self._transport = transport
        self._to_traditional = to_traditional
        self._policy = policy
        self._lease = lease or new_lease(f"outbox-{transport.channel}", DEFAULT_LEASE_SECONDS)
        self._poll_seconds = poll_seconds
        self._batch = batch
        # Set by the case desk after it commits something to send (same process, same loop).
        self._wake = wakeup or asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def _db(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._engine, work)

    async def run(self) -> None:
        while True:
            try:
                sent = await self.send_due()
            except Exception as error:  # the database away for a moment must not end the sender
                log_event("outbox_loop_failed", logging.ERROR, error=type(error).__name__)
                # What this round held may not have been handed back: let it lapse.
                self._lease = self._lease.renamed()
                sent = 0
            if sent:
                continue
            self._wake.clear()
            # Poll anyway: retries come due, and other processes queue messages too.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    async def send_due(self) -> int:
        """Send what is due now; returns how many messages were handled (sent or given up)."""
        channel, lease = self._transport.channel, self._lease
        messages = await self._db(
            lambda s: outbox.lease_due(channel, lease=lease, limit=self._batch, session=s)
        )

        async def renew(ids: list[int]) -> None:
            await self._db(lambda s: outbox.renew_all(ids, lease=lease, session=s))

        def release(ids: list[int]) -> None:
            # One cut off mid-send may then go twice; none is lost.
            run_transaction(
                self._engine, lambda s: outbox.release(ids, holder=lease.holder, session=s)
            )

        ids = [message.id for message in messages if message.id is not None]
        async with worked_through(ids, lease, renew=renew, release=release) as unfinished:
            for message in messages:
                await self._deliver(message)
                unfinished.pop(0)
        return len(messages)

    async def _deliver(self, message: OutboxMessage) -> None:
        assert message.id is not None
        message_id = message.id
        if not await self._db(lambda s: outbox.renew(message_id, lease=self._lease, session=s)):
            # Our lease ran out (the process stalled) and another sender holds it now.
            log_event("outbox_lease_lost", logging.WARNING, id=message_id, kind=message.kind)
            return
        try:
            await self._send(message)
        except RetryLater as error:
            await self._retry(message, str(error), error.after)
            return
        except Undeliverable as error:
            reason = str(error)
            await self._db(lambda s: outbox.mark_failed(message_id, reason, **self._held(s)))
            log_event("outbox_failed", logging.WARNING, id=message_id, kind=message.kind)
            return
        except Exception as error:  # unexpected: keep the message and try again later
            await self._retry(message, type(error).__name__, None)
            return
        log_event("outbox_sent", id=message_id, kind=message.kind, attempts=message.attempts)

    async def _retry(self, message: OutboxMessage, reason: str, after: float | None) -> None:
        assert message.id is not None
        message_id = message.id
        if after is None and self._policy.is_exhausted(message.attempts):
            await self._db(lambda s: outbox.mark_failed(message_id, reason, **self._held(s)))
            log_event("outbox_gave_up", logging.ERROR, id=message_id, attempts=message.attempts)
            return
        delay = after if after is not None else self._policy.backoff(message.attempts)
        at = utc_now() + timedelta(seconds=delay)
        await self._db(lambda s: outbox.reschedule(message_id, at, reason, **self._held(s)))
        log_event("outbox_retry", id=message_id, attempts=message.attempts, delay_s=round(delay, 2))

    async def _send(self, message: OutboxMessage) -> None:
        assert message.id is not None
        message_id = message.id
        record = await self._db(lambda s: _detached_case(message.case_id, session=s))
        if record is None or not message.address:
            raise Undeliverable("case or address gone")
        view = case_view(record)
        if message.kind == CARD:
            sent_id = await self._transport.send(message.address, staff_card(view))
            await self._db(
                lambda s: _card_sent(message_id, view.id, sent_id, self._lease.holder, session=s)
            )
            return
        if message.kind == CARD_REFRESH:
            if record.card_message_id is not None:
                await self._transport.edit(
                    message.address, record.card_message_id, staff_card(view)
                )
            # No card yet: it will show the current state when it goes out.
        elif message.kind == WORKER_NOTICE:
            reply = worker_notice(view, CaseEvent(message.event or CaseEvent.CLAIMED))
            if view.traditional:
                reply = reply.converted(self._to_traditional)
            await self._transport.send(message.address, reply)
        else:
            raise Undeliverable(f"unknown kind {message.kind}")
        await self._db(lambda s: outbox.mark_sent(message_id, **self._held(s)))

    def _held(self, session: Session) -> dict[str, Any]:
        """The keywords of a result written by this sender, the lease holder."""
        return {"holder": self._lease.holder, "session": session}


def _detached_case(case_id: int | None, *, session: Session) -> LegalAidCase | None:
    if case_id is None:
        return None
    record = session.get(LegalAidCase, case_id)
    if record is not None:
        session.expunge(record)  # read after the session closes
    return record


def _card_sent(
    message_id: int, case_id: int, card_message_id: str, holder: str, *, session: Session
) -> None:
    """Mark the card sent and remember its message, in one transaction."""
    record = session.get(LegalAidCase, case_id)
    if record is not None:
        record.card_message_id = card_message_id
        session.add(record)
    outbox.mark_sent(message_id, holder=holder, session=session)
