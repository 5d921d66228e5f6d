"""SQLite's turns: one writer, so one turn at a time on one kept connection, and the turns that
follow each other closely share one commit (`CommitGroup`).

A turn takes the writer lock with `BEGIN IMMEDIATE` (on the loop when nobody holds it, on the
turn's thread when another process does), runs in a savepoint of its own, and returns only once
the group's commit has kept it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from bot.storage.open_turn import BUSY_TIMEOUT_PRAGMA, OpenTurn, entered

# Turns in one commit group, and how long the first may wait for the group's commit.
MAX_GROUPED_TURNS = 32
MAX_GROUP_SECONDS = 0.010
SAVEPOINT_SQL = "SAVEPOINT policybot_turn"
ROLLBACK_TO_SAVEPOINT_SQL = "ROLLBACK TO policybot_turn"
RELEASE_SAVEPOINT_SQL = "RELEASE policybot_turn"


@dataclass(eq=False)
class CommitGroup:
    """SQLite turns that share one transaction, each in a savepoint of its own, committed together
    when the loop comes round with no turn running (or the group is full or old). A turn ends
    without committing; turns that start before the loop comes round join the group, and the one
    commit (the WAL's writes, the writer lock taken again) serves all of them. A turn that fails
    rolls back its own savepoint only, and no turn returns before the commit that keeps it."""

    connection: Connection
    committed: asyncio.Future[None]
    opened: float
    turns: int = 0
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    commit_scheduled: bool = False


class SqliteTurns:
    """Turns on one SQLite file engine: `async with turns.turn(user_key): …`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._slots = asyncio.Semaphore(1)
        # The writer lock is waited for on a thread of its own (another process may hold it),
        # never on the loop or the shared worker thread.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-turn")
        # Checked out of the pool once, not per message; the commit group that turns join.
        self._kept: Connection | None = None
        self._group: CommitGroup | None = None

    @contextlib.asynccontextmanager
    async def turn(self, user_key: str) -> AsyncIterator[None]:
        """A SQLite turn: the writer (one turn at a time), a savepoint in the open commit group,
        and, once the savepoint is released, the wait for the group's commit."""
        try:
            await self._slots.acquire()
        except BaseException:
            if self._group is not None:  # handed the writer, it gave up: the group must not wait
                self._schedule_commit(self._group)
            raise
        kept = False
        group: CommitGroup | None = None
        try:
            group = await self._open_group(user_key)
            turn = OpenTurn(self._engine, group.connection, session_mode="create_savepoint")
            driver = turn.driver
            driver.execute(SAVEPOINT_SQL)
            try:
                with entered(turn):
                    yield
                turn.end_session(keep=True)
                driver.execute(RELEASE_SAVEPOINT_SQL)
            except BaseException:
                try:
                    turn.end_session(keep=False)
                finally:
                    driver.execute(ROLLBACK_TO_SAVEPOINT_SQL)
                    driver.execute(RELEASE_SAVEPOINT_SQL)
                raise
            group.after_commit += turn.after_commit
            kept = True
        finally:
            if group is not None:
                group.turns += 1
                self._end_of_turn(group)
            self._slots.release()
        if kept:
            assert group is not None
            await asyncio.shield(group.committed)

    async def _open_group(self, user_key: str) -> CommitGroup:
        """The open commit group, or a new one with the writer lock (waited for on the turn's
        thread when another process holds it)."""
        if self._group is not None:
            return self._group
        connection = self._kept_connection()
        connection.begin()
        if not writer_lock_at_once(connection.connection.driver_connection):
            waiting = self._executor.submit(_begin_immediate, connection)
            try:
                await asyncio.shield(asyncio.wrap_future(waiting))
            except BaseException:
                # Given up (or failed) while another process held the writer: this connection is
                # not kept; the turn's thread rolls it back and closes it once its BEGIN is done.
                self._kept = None
                self._executor.submit(_discard, connection)
                raise
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()
        # A group whose every turn was cancelled still commits; nobody reads its outcome then.
        committed.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._group = CommitGroup(connection, committed, opened=loop.time())
        return self._group

    def _end_of_turn(self, group: CommitGroup) -> None:
        """Commit the group now if it is full or old, else once the loop comes round."""
        full = group.turns >= MAX_GROUPED_TURNS
        old = asyncio.get_running_loop().time() - group.opened >= MAX_GROUP_SECONDS
        if full or old:
            self._commit_group(group)
        else:
            self._schedule_commit(group)

    def _schedule_commit(self, group: CommitGroup) -> None:
        if not group.commit_scheduled:
            group.commit_scheduled = True
            asyncio.get_running_loop().call_soon(self._commit_if_idle, group)

    def _commit_if_idle(self, group: CommitGroup) -> None:
        """The loop came round: commit unless a turn of the group runs now (it commits or
        schedules again when it ends)."""
        group.commit_scheduled = False
        if self._group is group and not self._slots.locked():
            # A failed commit reaches every turn of the group through `committed`.
            with contextlib.suppress(Exception):
                self._commit_group(group)

    def _commit_group(self, group: CommitGroup) -> None:
        self._group = None
        try:
            group.connection.commit()
        except BaseException as error:
            with contextlib.suppress(Exception):
                group.connection.rollback()
            group.committed.set_exception(error)
            raise
        group.committed.set_result(None)
        for callback in group.after_commit:
            callback()

    def close(self) -> None:
        self._executor.shutdown(wait=False)
        if self._kept is not None:
            self._kept.close()
            self._kept = None

    def _kept_connection(self) -> Connection:
        if self._kept is None or self._kept.closed or self._kept.invalidated:
            self._kept = self._engine.connect()
        return self._kept


def writer_lock_at_once(driver: Any) -> bool:
    """SQLite's writer lock if nobody holds it, taken on the loop without waiting (one process
    alone never waits); False, and nothing begun, when another process holds it."""
    assert isinstance(driver, sqlite3.Connection)
    cursor = driver.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # database is locked
            return False
        finally:
            cursor.execute(BUSY_TIMEOUT_PRAGMA)
        return True
    finally:
        cursor.close()


def _discard(connection: Connection) -> None:
    try:
        connection.rollback()
    finally:
        connection.close()


def _begin_immediate(connection: Connection) -> None:
    # pysqlite would BEGIN (deferred) only before the first write; a read first and a write
    # later could then find the snapshot stale. The writer lock from the start instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
