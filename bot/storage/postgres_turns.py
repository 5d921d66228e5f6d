"""PostgreSQL's turns: each on a connection of psycopg's asyncio driver, so no statement of a
turn blocks the event loop or waits for a thread.

A plain question takes two messages to the server: BEGIN, the person's lock, their state's read
and an id for their question (bot.storage.dialogue_store); then the question's row, the state's
save and COMMIT.
The ORM stores a turn joins run on the same connection: SQLAlchemy's asyncio extension runs their
synchronous code in a greenlet (`OpenTurn.run`), each statement awaited on the loop. While one turn
waits for the server (a round trip, its commit's WAL flush, another process holding the person's
lock, a row another turn of this process holds), the loop runs the others, and their commits
share the server's flushes. The person's lock is `pg_advisory_xact_lock` on a hash of the user
key: the commit releases it, and so does the server when a killed process's connection drops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine, String, bindparam, event, func, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.storage.open_turn import OpenTurn, entered
from bot.storage.prepared import BoundStatement, PreparedStatement, run_script

# The same key always hashes to the same advisory lock; collisions only make two people queue.
_KEY_HASH = func.hashtextextended(bindparam("key", type_=String), literal_column("0"))


@dataclass(frozen=True)
class LockStatements:
    """The person's lock, tried at once and waited for, compiled for the engine's dialect."""

    try_now: PreparedStatement
    wait: PreparedStatement

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> LockStatements:
        return cls(
            PreparedStatement(select(func.pg_try_advisory_xact_lock(_KEY_HASH)), dialect),
            PreparedStatement(select(func.pg_advisory_xact_lock(_KEY_HASH)), dialect),
        )


@dataclass(eq=False)
class KeptConnection:
    """A turn connection kept checked out between turns (no pool checkout per message), with
    psycopg's own connection under it."""

    connection: AsyncConnection
    driver: psycopg.AsyncConnection[tuple[object, ...]]


class PostgresTurns:
    """Turns on a PostgreSQL engine: `async with turns.turn(user_key): …`."""

    def __init__(self, engine: Engine, *, max_open: int, hide_parameters: bool = True) -> None:
        self._engine = engine
        self._max_open = max_open
        self._turn_engine: AsyncEngine = create_async_engine(
            engine.url,
            # The turn sends BEGIN itself, in its first message (`_open`).
            isolation_level="AUTOCOMMIT",
            pool_size=max_open,
            max_overflow=0,
            # No ping (a round trip): a connection the server dropped fails its first statement
            # and gives way to a fresh one.
            pool_pre_ping=False,
            hide_parameters=hide_parameters,
        )
        self._slots = asyncio.Semaphore(max_open)
        self._kept: list[KeptConnection] = []
        self._locks = LockStatements.for_dialect(engine.dialect)
        # Disposing of the engine (a test's end, `db` commands) closes the turns' pool too.
        event.listen(engine, "engine_disposed", self._engine_disposed)
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def turn_engine(self) -> Engine:
        """The engine the turns' connections come from (for its events; its calls need a greenlet)."""
        return self._turn_engine.sync_engine

    @contextlib.asynccontextmanager
    async def turn(
        self, user_key: str, read_ahead: Sequence[BoundStatement] = ()
    ) -> AsyncIterator[None]:
        """A turn holding the person's lock; `read_ahead` (their state's read) is sent with the
        turn's BEGIN and lock, in the same message."""
        async with self._slots:
            kept, turn = await self._locked(user_key, read_ahead)
            try:
                with entered(turn):
                    yield
                if turn.has_session:
                    await turn.run(turn.flush_session)
                await turn.send_deferred(commit=True)
                if turn.has_session:
                    # SQLAlchemy's side of it: the server has committed, nothing is sent.
                    await kept.connection.commit()
                    await turn.run(turn.close_session)
            except BaseException:
                # Cancelled or not, the connection must not be kept holding the person's lock.
                await asyncio.shield(_discard(turn, kept.connection))
                raise
            self._kept.append(kept)
        for callback in turn.after_commit:
            callback()

    async def _locked(
        self, user_key: str, read_ahead: Sequence[BoundStatement]
    ) -> tuple[KeptConnection, OpenTurn]:
        """A turn in a transaction holding the person's lock: tried at once, else waited for
        (another process holds it) without holding up the loop."""
        for attempt in range(self._max_open + 1):
            kept = self._kept.pop() if self._kept else await self._connect()
            sync_connection = kept.connection.sync_connection
            assert sync_connection is not None  # connected
            try:
                turn = OpenTurn(
                    self._engine,
                    sync_connection,
                    async_connection=kept.connection,
                    async_driver=kept.driver,
                )
                await _open(turn, self._locks, user_key, read_ahead)
                return kept, turn
            except psycopg.OperationalError:
                # Dropped by the server while kept (a restart, an idle timeout): every kept one
                # may be, so each gets one try, then a fresh connection's error stands.
                await asyncio.shield(_invalidate(kept.connection))
                if attempt == self._max_open:
                    raise
            except BaseException:
                await asyncio.shield(_invalidate(kept.connection))
                raise
        raise AssertionError("unreachable")

    async def _connect(self) -> KeptConnection:
        connection = await self._turn_engine.connect()
        raw = await connection.get_raw_connection()
        return KeptConnection(connection, raw.driver_connection)  # type: ignore[arg-type]

    async def close(self) -> None:
        while self._kept:
            await _invalidate(self._kept.pop().connection, invalidate=False)
        await self._turn_engine.dispose()

    def _engine_disposed(self, _engine: Engine) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop runs here: closing needs one, briefly
            asyncio.run(self.close())
            return
        task = loop.create_task(self.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def _open(
    turn: OpenTurn, locks: LockStatements, user_key: str, read_ahead: Sequence[BoundStatement]
) -> None:
    """BEGIN, the person's lock tried, and the read ahead, in one message (the turns'
    connections are in autocommit mode, so BEGIN is a statement like the others, not a round trip
    of its own); if another process holds the lock, wait for it, and keep nothing read ahead."""
    driver = turn.async_driver
    lock = BoundStatement(locks.try_now, {"key": user_key})
    cursor = await run_script(driver, ["BEGIN", lock, *read_ahead])
    try:
        cursor.nextset()
        (taken,) = await cursor.fetchone()
        for statement in read_ahead if taken else ():
            cursor.nextset()
            rows = statement.statement.converted(await cursor.fetchall())
            turn.read_ahead.append((statement, rows))
    finally:
        await cursor.close()
    if not taken:
        await locks.wait.rows_async(driver, {"key": user_key})


async def _discard(turn: OpenTurn, connection: AsyncConnection) -> None:
    """After a failure: nothing deferred sent, everything rolled back, the connection closed
    (the failure the caller sees is the turn's, not this one's)."""
    turn.deferred.clear()
    try:
        if turn.has_session:
            await turn.run(turn.close_session)
        await turn.async_driver.rollback()  # the server's transaction, begun by `_open`
        await connection.rollback()  # SQLAlchemy's, if a session began it
        await connection.close()
    except Exception:
        await _invalidate(connection)


async def _invalidate(connection: AsyncConnection, *, invalidate: bool = True) -> None:
    if invalidate:
        with contextlib.suppress(Exception):
            await connection.invalidate()
    with contextlib.suppress(Exception):
        await connection.close()
