"""Claims with leases: how the background senders of several processes share one table of rows
to send (the outbox, broadcast deliveries, job digests) without sending a row twice.

A sender claims rows in one short transaction: `SELECT … FOR UPDATE SKIP LOCKED LIMIT n` on
PostgreSQL (rows another sender is claiming right now are skipped, not waited for; SQLite ignores
the clause, its single writer serialises claims anyway), then a conditional UPDATE setting
`claimed_by` to the sender and `lease_until` to now + the lease. Just before each send the holder
renews its row's lease (`WHERE claimed_by = me`); a row it no longer holds is not sent. The result
(sent, retry later, failed) is written back in another short transaction, again only by the
holder. A row whose lease has expired is claimable again: a process killed mid-send (SIGKILL,
power loss) hands its rows over after the lease, delayed but not lost.

Exactly once toward the platform is impossible in general: a kill after the platform accepted a
message but before its result was committed leaves the row claimed, and the next holder sends it
again. That window is one send's round trip plus one commit, per row in flight; nothing else sends
twice. A send itself is bounded by its HTTP timeouts (seconds), far below the lease, and the lease
is renewed before every send, so a slow batch never lets a second sender in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.events import log_event

# Renewed this many times per lease while held: one late renewal still leaves two thirds of it.
RENEWALS_PER_LEASE = 3


@dataclass(frozen=True, slots=True)
class Lease:
    """One sender's name in `claimed_by` and how long its claims last."""

    holder: str
    length: timedelta

    def until(self, now: datetime) -> datetime:
        return now + self.length


def new_holder(kind: str) -> str:
    """A name no other sender has: the kind, this host and process, and a random part (two
    senders in one process, or a restarted process with a reused pid, never share one)."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def new_lease(kind: str, seconds: float) -> Lease:
    return Lease(new_holder(kind), timedelta(seconds=seconds))


@contextlib.asynccontextmanager
async def kept_alive(lease: Lease, renew: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
    """Renew claims every third of the lease while the block runs: a send may wait far longer
    than a lease for its turn in Telegram's shared pace (a staff chat takes one message a
    second), and a live sender must not lose its rows to another meanwhile. A killed process
    stops renewing, so its rows still come free one lease after its last renewal."""

    async def keep() -> None:
        every = lease.length.total_seconds() / RENEWALS_PER_LEASE
        while True:
            await asyncio.sleep(every)
            try:
                await renew()
            except Exception as error:  # the database away for a moment: try again next time
                log_event("lease_renewal_failed", logging.WARNING, error=type(error).__name__)

    keeper = asyncio.create_task(keep())
    try:
        yield
    finally:
        # Not awaited: awaiting the cancelled keeper could swallow a cancellation of this very
        # task arriving meanwhile (a sender told to stop would go on). A renewal still under
        # way touches only rows this sender holds, and those it has just settled or released.
        keeper.cancel()
