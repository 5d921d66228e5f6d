"""One transaction per dialogue turn, with the person's lock held until it commits.

While a turn is open, every store call on its engine (`in_transaction` / `run_transaction`) joins
the turn's session instead of committing on its own: a plain question is one write transaction
(state read, question recorded, state saved) and a referral's submit commits with the state that
ends its draft. The person's lock lives in the database, so it holds across processes:

- PostgreSQL: `pg_advisory_xact_lock` on a hash of the user key; the commit releases it, and so
  does the server when a killed process's connection drops.
- SQLite: `BEGIN IMMEDIATE`, the file's one writer lock, so turns queue across processes too.

Callbacks given to `after_commit` (the outbox bell) run once the turn has committed, so a sender
they wake finds the rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm.session import JoinTransactionMode
from sqlmodel import Session

from bot.storage.backups import is_in_memory_sqlite

T = TypeVar("T")

# How long a SQLite writer waits for another process's write lock before "database is locked"
# (every connection's busy timeout, bot.storage.engine).
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Turns open at once per process on PostgreSQL: each holds a pooled connection until it commits,
# so the engine's pool is sized from this (bot.storage.engine) with room for the senders beside.
MAX_OPEN_TURNS = 16
# The same key always hashes to the same advisory lock; collisions only make two people queue.
ADVISORY_LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
# SQLite: turns in one commit group, and how long the first may wait for the group's commit.
MAX_GROUPED_TURNS = 32
MAX_GROUP_SECONDS = 0.010
SAVEPOINT_SQL = "SAVEPOINT policybot_turn"
ROLLBACK_TO_SAVEPOINT_SQL = "ROLLBACK TO policybot_turn"
RELEASE_SAVEPOINT_SQL = "RELEASE policybot_turn"
BUSY_TIMEOUT_PRAGMA = f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}"
TRY_ADVISORY_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))"


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


@dataclass(eq=False)
class OpenTurn:
    """A turn's connection (in its transaction), the thread pool its statements run on, and what
    waits for its commit."""

    engine: Engine
    connection: Connection
    executor: ThreadPoolExecutor
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    in_flight: Future[object] | None = None
    open: bool = True
    # Once the person's lock is held, statements that cannot wait for another's lock run at
    # once, on the loop (see `run`); on SQLite, whose writer lock the turn holds, all of them.
    inline: bool = False
    # PostgreSQL: statements that may wait for a row lock (the ORM stores') run on the turn's
    # thread even once inline: blocking the loop there could wait for a turn of this very
    # process that the blocked loop can never finish.
    waits_on_thread: bool = False
    # SQLite's turns share one connection, kept open between them (`TurnTransactions`).
    kept: bool = False
    # PostgreSQL: the session is the turn's transaction; SQLite: a savepoint within the turn's
    # savepoint, as the transaction is shared by a commit group (`CommitGroup`).
    session_mode: JoinTransactionMode = "rollback_only"
    _session: Session | None = None

    @property
    def session(self) -> Session:
        """An ORM session inside the turn's transaction, made when a store first asks: a plain
        question needs only the dialogue's prepared statements (`driver`), and a session's unit of
        work costs more than they do. Its commit commits nothing; the turn's commit does."""
        if self._session is None:
            self._session = Session(
                bind=self.connection,
                expire_on_commit=False,
                join_transaction_mode=self.session_mode,
            )
        return self._session

    def end_session(self, *, keep: bool) -> None:
        """Close the session (a grouped turn's savepoint released first if `keep`)."""
        if self._session is None:
            return
        try:
            if keep:
                self._session.commit()
        finally:
            self._session.close()

    @property
    def driver(self) -> Any:
        """The DBAPI connection under the turn, for statements prepared once (bot.storage.prepared)."""
        return self.connection.connection.driver_connection

    def commit(self) -> None:
        if self._session is not None:
            self._session.flush()
        self.connection.commit()

    def close(self, *, rollback: bool) -> None:
        try:
            if rollback:
                self.connection.rollback()
        except BaseException:
            self.kept = False  # a connection that cannot roll back is not kept for the next turn
            raise
        finally:
            if self._session is not None:
                self._session.close()
            if not self.kept:
                self.connection.close()

    async def run(self, work: Callable[[], T], *, may_wait: bool = True) -> T:
        """`work` with the turn visible to it: at once when inline and it cannot wait for another
        transaction's lock (`may_wait=False`: the person's own rows, a commit), else on the
        turn's pool, one statement batch at a time."""
        if self.inline and not (may_wait and self.waits_on_thread):
            return work()
        context = contextvars.copy_context()
        future: Future[T] = self.executor.submit(context.run, work)
        self.in_flight = future  # type: ignore[assignment]
        return await asyncio.wrap_future(future)


_current: contextvars.ContextVar[OpenTurn | None] = contextvars.ContextVar(
    "policybot_open_turn", default=None
)


def joined_turn(engine: Engine) -> OpenTurn | None:
    """The open turn on `engine` that the caller runs inside, if any."""
    turn = _current.get()
    if turn is not None and turn.open and turn.engine is engine:
        return turn
    return None


def driver_connection(session: Session) -> Any:
    """The DBAPI connection of `session`'s transaction (begun if it was not yet)."""
    return session.connection().connection.driver_connection


def after_commit(engine: Engine, callback: Callable[[], None]) -> None:
    """`callback` now, or when the open turn on `engine` has committed (never if it rolls back)."""
    turn = joined_turn(engine)
    if turn is None:
        callback()
    else:
        turn.after_commit.append(callback)


class TurnTransactions:
    """Opens turns on one engine: `async with turns.turn(user_key): …`."""

    def __init__(self, engine: Engine, *, max_open: int = MAX_OPEN_TURNS) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        # An in-memory SQLite database is one shared connection: nothing may hold it across awaits,
        # so there turns only queue in this process and each call commits on its own.
        self._shared_connection = self._sqlite and is_in_memory_sqlite(engine.url)
        # SQLite has one writer: one turn at a time. Its writer lock is waited for on a thread of
        # its own (another process may hold it), never on the loop or the shared worker thread.
        open_at_once = 1 if self._sqlite else max_open
        self._slots = asyncio.Semaphore(open_at_once)
        self._executor = ThreadPoolExecutor(open_at_once, thread_name_prefix="turn")
        # One turn at a time on SQLite, so one connection serves them all: checked out of the
        # pool once, not per message. The commit group that turns join.
        self._kept: Connection | None = None
        self._group: CommitGroup | None = None

    @contextlib.asynccontextmanager
    async def turn(self, user_key: str) -> AsyncIterator[None]:
        if joined_turn(self._engine) is not None:  # a turn inside a turn joins the outer one
            yield
            return
        if self._sqlite and not self._shared_connection:
            async with self._grouped_turn(user_key):
                yield
            return
        async with self._slots:
            if self._shared_connection:
                yield
                return
            connection = self._engine.connect()
            connection.begin()
            turn = OpenTurn(self._engine, connection, self._executor)
            try:
                if not self._lock_at_once(turn.driver, user_key):
                    await turn.run(lambda: self._begin(turn.connection, user_key))
                # With the person's lock held, their own rows' statements run at once, on the
                # loop: a hop to a thread per statement cost more than the statement
                # (bench_framework.py). Others' rows may be locked: those stay on the thread.
                turn.inline, turn.waits_on_thread = True, True
                token = _current.set(turn)
                try:
                    yield
                finally:
                    _current.reset(token)
                await turn.run(turn.commit, may_wait=False)
            except BaseException:
                turn.open = False
                await _finish(turn, rollback=True)
                raise
            turn.open = False
            await _finish(turn, rollback=False)
        for callback in turn.after_commit:
            callback()

    @contextlib.asynccontextmanager
    async def _grouped_turn(self, user_key: str) -> AsyncIterator[None]:
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
            turn = OpenTurn(
                self._engine,
                group.connection,
                self._executor,
                inline=True,
                kept=True,
                session_mode="create_savepoint",
            )
            driver = turn.driver
            driver.execute(SAVEPOINT_SQL)
            token = _current.set(turn)
            try:
                try:
                    yield
                finally:
                    turn.open = False
                    _current.reset(token)
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
        if not _writer_lock_at_once(connection.connection.driver_connection):
            waiting = self._executor.submit(self._begin, connection, user_key)
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

    def _lock_at_once(self, driver: Any, user_key: str) -> bool:
        """The person's lock if it is free, taken without waiting; False, and nothing begun or
        held, when another process holds it (then `_begin` waits for it on the turn's thread)."""
        if self._sqlite:
            return _writer_lock_at_once(driver)
        cursor = driver.cursor()
        try:
            cursor.execute(TRY_ADVISORY_LOCK_SQL, (user_key,))
            (taken,) = cursor.fetchone()
            return bool(taken)
        finally:
            cursor.close()

    def _begin(self, connection: Connection, user_key: str) -> None:
        if self._sqlite:
            # pysqlite would BEGIN (deferred) only before the first write; a read first and a write
            # later could then find the snapshot stale. The writer lock from the start instead.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(ADVISORY_LOCK_SQL, {"key": user_key})


def _writer_lock_at_once(driver: Any) -> bool:
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


async def _finish(turn: OpenTurn, *, rollback: bool) -> None:
    """Close the session on the turn's pool once its last statement is done, even when the caller
    is cancelled again meanwhile: a session left open would keep the person's lock."""

    def finish() -> None:
        if turn.in_flight is not None:
            wait([turn.in_flight])
        turn.close(rollback=rollback)

    if turn.in_flight is None or turn.in_flight.done():
        finish()
        return
    # A plain submit (not `run`): the statement in flight may still be on this very pool.
    done = turn.executor.submit(finish)
    await asyncio.shield(asyncio.wrap_future(done))
