"""Claims with leases: how the background senders of several processes share one table of rows
to send (the outbox, broadcast deliveries, job digests) without sending a row twice.

A sender claims rows in one short transaction: `SELECT … FOR UPDATE SKIP LOCKED LIMIT n` on
PostgreSQL (rows another sender is claiming right now are skipped, not waited for; SQLite ignores
the clause), then a conditional `UPDATE … RETURNING` setting `claimed_by` to the sender and
`lease_until` to now + the lease. What the claim hands back is what that UPDATE took, never what
the SELECT saw: on SQLite the SELECT runs before the write lock, and a row may change between the
two. A row is claimable when nobody holds it or its holder let the lease lapse; never by its own
holder, which still has it in hand. While a sender holds rows it renews their leases (`kept_alive`,
and once more just before each send, `WHERE claimed_by = me`); a row it no longer holds is not
sent. The result (sent, retry later, failed) is written back in another short transaction, again
only by the holder. A process killed mid-send (SIGKILL, power loss) stops renewing: its rows come
free one lease after its last renewal, delayed but not lost.

Exactly once toward the platform is impossible in general: a kill after the platform accepted a
message but before its result was committed leaves the row claimed, and the next holder sends it
again. That window is one send's round trip plus one commit, per row in flight; nothing else sends
twice while the holder's renewals reach the database within a lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import Session, col, select, update

from bot.events import log_event
from bot.storage.models import utc_now

# Renewed this many times per lease while held: one late renewal still leaves two thirds of it.
RENEWALS_PER_LEASE = 3
# Between a holder's name and the part a renamed lease adds.
RENAMED = "#"


@dataclass(frozen=True, slots=True)
class Lease:
    """One sender's name in `claimed_by` and how long its claims last."""

    holder: str
    length: timedelta

    def until(self, now: datetime) -> datetime:
        return now + self.length

    def renamed(self) -> Lease:
        """This lease under a new name, for a sender that may have lost track of rows it held (a
        round failed, and handing them back failed too): those lapse like a dead sender's, and
        then this sender may claim them again as well."""
        base = self.holder.partition(RENAMED)[0]
        return Lease(f"{base}{RENAMED}{secrets.token_hex(4)}", self.length)


class ClaimedRow(Protocol):
    """What a table of rows to send has for claims: an id, the holder, the lease."""

    id: int | None
    claimed_by: str | None
    lease_until: datetime | None


@dataclass(frozen=True)
class ClaimTable:
    """One table of rows to send, as claims see it: which rows are still to be sent (`open`,
    claimed or not), and what a claim and a release set besides the holder and the lease (the
    outbox and the digests mark a claimed row `sending`)."""

    model: type[ClaimedRow]
    open: ColumnElement[bool]
    on_claim: Mapping[str, Any] = field(default_factory=dict)
    on_release: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> SQLCoreOperations[int | None]:
        return col(self.model.id)

    @property
    def claimed_by(self) -> SQLCoreOperations[str | None]:
        return col(self.model.claimed_by)

    @property
    def lease_until(self) -> SQLCoreOperations[datetime | None]:
        return col(self.model.lease_until)

    def free(self, moment: datetime) -> ColumnElement[bool]:
        """Open and held by nobody: never claimed, handed back, or its holder's lease lapsed."""
        return self.open & (self.claimed_by.is_(None) | (self.lease_until < moment))

    def claimable(self, holder: str, moment: datetime) -> ColumnElement[bool]:
        """Free, and not this holder's own lapsed claim: it has that row in hand still (sending
        it, or waiting to), and taking it again would send it twice."""
        return self.free(moment) & (self.claimed_by.is_(None) | (self.claimed_by != holder))

    def held_by(self, holder: str) -> ColumnElement[bool]:
        return self.open & (self.claimed_by == holder)


def claim(
    table: ClaimTable,
    *,
    among: ColumnElement[bool],
    lease: Lease,
    limit: int,
    session: Session,
    now: datetime | None = None,
) -> list[int]:
    """Claim up to `limit` claimable rows of `among`, oldest first, for this lease's holder;
    returns the ids taken, ascending. Empty only when nothing is left to claim."""
    moment = now or utc_now()
    claimable = table.claimable(lease.holder, moment)
    while True:
        candidates = session.exec(
            select(table.id)
            .where(among, claimable)
            .order_by(table.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not candidates:
            return []
        taken = session.exec(
            update(table.model)
            .where(table.id.in_(candidates), claimable)
            .values(claimed_by=lease.holder, lease_until=lease.until(moment), **table.on_claim)
            .returning(table.id)
            .execution_options(synchronize_session=False)
        )
        ids = sorted(int(row[0]) for row in taken.all())
        if ids:
            return ids
        # On SQLite the SELECT may predate another sender's claim of every candidate; holding
        # the write lock now, we look again.


def renew(
    table: ClaimTable,
    *,
    among: ColumnElement[bool],
    lease: Lease,
    session: Session,
    now: datetime | None = None,
) -> int:
    """Extend the lease of the rows of `among` this holder still holds; how many it holds."""
    result = session.exec(
        update(table.model)
        .where(among, table.held_by(lease.holder))
        .values(lease_until=lease.until(now or utc_now()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def release(table: ClaimTable, *, among: ColumnElement[bool], holder: str, session: Session) -> int:
    """Hand back the rows of `among` this holder still holds, unsent, for any sender to claim."""
    return settle(table, among=among, holder=holder, values=table.on_release, session=session)


def settle(
    table: ClaimTable,
    *,
    among: ColumnElement[bool],
    holder: str,
    values: Mapping[str, Any],
    session: Session,
) -> int:
    """A send's result, written only by the rows' holder, which lets go of them; how many it
    still held."""
    result = session.exec(
        update(table.model)
        .where(among, table.held_by(holder))
        .values(claimed_by=None, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


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


@contextlib.asynccontextmanager
async def worked_through(
    ids: Sequence[int],
    lease: Lease,
    *,
    renew: Callable[[list[int]], Awaitable[object]],
    release: Callable[[list[int]], object],
) -> AsyncIterator[list[int]]:
    """A claimed batch sent one row after another: yields the ids still unfinished, from which
    the block removes each row it has settled. Those are kept alive meanwhile; if the block fails
    or is cancelled, what is left is handed back at once (`release` is synchronous, so a second
    cancellation cannot cut it short) rather than when the leases lapse."""
    unfinished = list(ids)
    try:
        async with kept_alive(lease, lambda: renew(list(unfinished))):
            yield unfinished
    except BaseException:
        try:
            release(list(unfinished))
        except Exception as error:  # the database away: the leases lapse instead
            log_event("claims_release_failed", logging.WARNING, error=type(error).__name__)
        raise
