"""The open turn: its connection in its transaction, and how the stores inside it find it.

Every store call on an engine (`in_transaction` / `run_transaction`, the dialogue's prepared
statements) made while a turn is open on that engine joins the turn (`joined_turn`) instead of
committing on its own; callbacks given to `after_commit` wait for the turn's commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm.session import JoinTransactionMode
from sqlmodel import Session

T = TypeVar("T")

# How long a SQLite writer waits for another process's write lock before "database is locked"
# (every connection's busy timeout, bot.storage.engine).
SQLITE_BUSY_TIMEOUT_SECONDS = 30
BUSY_TIMEOUT_PRAGMA = f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}"


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
    # SQLite's turns share one connection, kept open between them (bot.storage.commit_groups).
    kept: bool = False
    # PostgreSQL: the session is the turn's transaction; SQLite: a savepoint within the turn's
    # savepoint, as the transaction is shared by a commit group (bot.storage.commit_groups).
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


@contextlib.contextmanager
def entered(turn: OpenTurn) -> Iterator[None]:
    """The store calls made inside join `turn`; once left, it is closed to them."""
    token = _current.set(turn)
    try:
        yield
    finally:
        turn.open = False
        _current.reset(token)


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
