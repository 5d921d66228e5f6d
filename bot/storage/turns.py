"""One transaction per dialogue turn, with the person's lock held until it commits.

While a turn is open, every store call on its engine (`in_transaction` / `run_transaction`) joins
the turn's session instead of committing on its own: a plain question is one write transaction
(state read, question recorded, state saved) and a referral's submit commits with the state that
ends its draft. The person's lock lives in the database, so it holds across processes:

- PostgreSQL: `pg_advisory_xact_lock` on a hash of the user key; the commit releases it, and so
  does the server when a killed process's connection drops.
- SQLite: `BEGIN IMMEDIATE`, the file's one writer lock, so turns queue across processes too.

Callbacks given to `after_commit` (the outbox bell) run once the turn has committed, so a sender
they wake finds the rows. The open turn itself is bot.storage.open_turn; SQLite's turns, which
share commits, are bot.storage.commit_groups.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from sqlalchemy import Connection, Engine, text

from bot.storage.backups import is_in_memory_sqlite
from bot.storage.commit_groups import SqliteTurns
from bot.storage.open_turn import OpenTurn, entered, joined_turn

# Turns open at once per process on PostgreSQL: each holds a pooled connection until it commits,
# so the engine's pool is sized from this (bot.storage.engine) with room for the senders beside.
MAX_OPEN_TURNS = 16
# Connections kept between turns, at most (the rest go back to the pool).
MAX_IDLE_CONNECTIONS = 4
# The same key always hashes to the same advisory lock; collisions only make two people queue.
ADVISORY_LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
TRY_ADVISORY_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))"


class TurnTransactions:
    """Opens turns on one engine: `async with turns.turn(user_key): …`."""

    def __init__(self, engine: Engine, *, max_open: int = MAX_OPEN_TURNS) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        # An in-memory SQLite database is one shared connection: nothing may hold it across awaits,
        # so there turns only queue in this process and each call commits on its own.
        self._shared_connection = self._sqlite and is_in_memory_sqlite(engine.url)
        self._slots = asyncio.Semaphore(1 if self._shared_connection else max_open)
        self._executor = ThreadPoolExecutor(max_open, thread_name_prefix="turn")
        # PostgreSQL: connections kept between turns, so a message needs no pool checkout (and its
        # ping, a round trip); one found dead (the server restarted) is replaced from the pool.
        self._idle: list[Connection] = []
        # SQLite has one writer: its turns queue for it and share commits (commit_groups.py).
        self._grouped = (
            SqliteTurns(engine) if self._sqlite and not self._shared_connection else None
        )

    @contextlib.asynccontextmanager
    async def turn(self, user_key: str) -> AsyncIterator[None]:
        if joined_turn(self._engine) is not None:  # a turn inside a turn joins the outer one
            yield
            return
        if self._grouped is not None:
            async with self._grouped.turn(user_key):
                yield
            return
        async with self._slots:
            if self._shared_connection:
                yield
                return
            turn, locked = self._open(user_key)
            try:
                if not locked:
                    await turn.run(lambda: self._begin(turn.connection, user_key))
                # With the person's lock held, their own rows' statements run at once, on the
                # loop: a hop to a thread per statement cost more than the statement
                # (bench_framework.py). Others' rows may be locked: those stay on the thread.
                turn.inline, turn.waits_on_thread = True, True
                with entered(turn):
                    yield
                await turn.run(turn.commit, may_wait=False)
            except BaseException:
                turn.open = False
                turn.kept = False
                await _finish(turn, rollback=True)
                raise
            turn.open = False
            await _finish(turn, rollback=False)
            self._keep(turn.connection)
        for callback in turn.after_commit:
            callback()

    def _open(self, user_key: str) -> tuple[OpenTurn, bool]:
        """A turn on a kept connection (or the pool's) with the person's lock tried at once;
        whether it was taken."""
        while self._idle:
            connection = self._idle.pop()
            try:
                return self._opened(connection, user_key)
            except Exception:  # gone stale while kept: given up, and the next one tried
                connection.invalidate()
                connection.close()
        return self._opened(self._engine.connect(), user_key)

    def _opened(self, connection: Connection, user_key: str) -> tuple[OpenTurn, bool]:
        connection.begin()
        turn = OpenTurn(self._engine, connection, self._executor, kept=True)
        try:
            return turn, self._lock_at_once(turn.driver, user_key)
        except BaseException:
            connection.rollback()
            raise

    def _keep(self, connection: Connection) -> None:
        """Kept for the next turn after a commit; a turn that failed gives its connection back."""
        if len(self._idle) < MAX_IDLE_CONNECTIONS and not connection.invalidated:
            self._idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        self._executor.shutdown(wait=False)
        while self._idle:
            self._idle.pop().close()
        if self._grouped is not None:
            self._grouped.close()

    def _lock_at_once(self, driver: Any, user_key: str) -> bool:
        """The person's lock if it is free, taken without waiting; False, and nothing begun or
        held, when another process holds it (then `_begin` waits for it on the turn's thread)."""
        cursor = driver.cursor()
        try:
            cursor.execute(TRY_ADVISORY_LOCK_SQL, (user_key,))
            (taken,) = cursor.fetchone()
            return bool(taken)
        finally:
            cursor.close()

    def _begin(self, connection: Connection, user_key: str) -> None:
        connection.execute(ADVISORY_LOCK_SQL, {"key": user_key})


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
