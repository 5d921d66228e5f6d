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
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.storage.backups import is_in_memory_sqlite

T = TypeVar("T")

# Turns open at once per process on PostgreSQL: each holds a pooled connection until it commits,
# so the engine's pool is sized from this (bot.storage.engine) with room for the senders beside.
MAX_OPEN_TURNS = 16
# The same key always hashes to the same advisory lock; collisions only make two people queue.
ADVISORY_LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


@dataclass(eq=False)
class OpenTurn:
    """A turn's session, the thread pool its statements run on, and what waits for its commit."""

    engine: Engine
    session: Session
    executor: ThreadPoolExecutor
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    in_flight: Future[object] | None = None
    open: bool = True
    # SQLite, once the writer lock is held: statements on a local file that nobody else may
    # write run at once, on the loop. A hop to a thread per statement would make every other
    # request's turn wait for the loop to come round, several times per turn.
    inline: bool = False

    async def run(self, work: Callable[[], T]) -> T:
        """`work` on the turn's pool, one statement batch at a time, with the turn visible to it."""
        if self.inline:
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

    @contextlib.asynccontextmanager
    async def turn(self, user_key: str) -> AsyncIterator[None]:
        if joined_turn(self._engine) is not None:  # a turn inside a turn joins the outer one
            yield
            return
        async with self._slots:
            if self._shared_connection:
                yield
                return
            turn = OpenTurn(
                self._engine, Session(self._engine, expire_on_commit=False), self._executor
            )
            try:
                if not (self._sqlite and _writer_lock_at_once(turn.session)):
                    await turn.run(lambda: self._begin(turn.session, user_key))
                turn.inline = self._sqlite
                token = _current.set(turn)
                try:
                    yield
                finally:
                    _current.reset(token)
                await turn.run(turn.session.commit)
            except BaseException:
                turn.open = False
                await _finish(turn, rollback=True)
                raise
            turn.open = False
            await _finish(turn, rollback=False)
        for callback in turn.after_commit:
            callback()

    def close(self) -> None:
        self._executor.shutdown(wait=False)

    def _begin(self, session: Session, user_key: str) -> None:
        connection = session.connection()
        if self._sqlite:
            # pysqlite would BEGIN (deferred) only before the first write; a read first and a write
            # later could then find the snapshot stale. The writer lock from the start instead.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(ADVISORY_LOCK_SQL, {"key": user_key})


def _writer_lock_at_once(session: Session) -> bool:
    """SQLite's writer lock if nobody holds it, taken on the loop without waiting (one process
    alone never waits); False, and nothing begun, when another process holds it."""
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    cursor = driver.cursor()
    try:
        (waits,) = cursor.execute("PRAGMA busy_timeout").fetchone()
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # database is locked
            return False
        finally:
            cursor.execute(f"PRAGMA busy_timeout={int(waits)}")
        return True
    finally:
        cursor.close()


async def _finish(turn: OpenTurn, *, rollback: bool) -> None:
    """Close the session on the turn's pool once its last statement is done, even when the caller
    is cancelled again meanwhile: a session left open would keep the person's lock."""

    def finish() -> None:
        if turn.in_flight is not None:
            wait([turn.in_flight])
        try:
            if rollback:
                turn.session.rollback()
        finally:
            turn.session.close()

    if turn.inline:
        finish()
        return
    # A plain submit (not `run`): the statement in flight may still be on this very pool.
    done = turn.executor.submit(finish)
    await asyncio.shield(asyncio.wrap_future(done))
