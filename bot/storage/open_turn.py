"""The open turn: its connection in its transaction, and how the stores inside it find it.

Every store call on an engine (`in_transaction` / `run_transaction`, the dialogue's prepared
statements) made while a turn is open on that engine joins the turn (`joined_turn`) instead of
committing on its own; callbacks given to `after_commit` wait for the turn's commit.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm.session import JoinTransactionMode
from sqlmodel import Session

from bot.storage.prepared import BoundStatement, run_script

if TYPE_CHECKING:  # the asyncio extension loads only where PostgreSQL's turns use it
    from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")

# How long a SQLite writer waits for another process's write lock before "database is locked"
# (every connection's busy timeout, bot.storage.engine).
SQLITE_BUSY_TIMEOUT_SECONDS = 30
BUSY_TIMEOUT_PRAGMA = f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}"


@dataclass(eq=False)
class OpenTurn:
    """A turn's connection (in its transaction) and what waits for its commit."""

    engine: Engine
    connection: Connection
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    open: bool = True
    # PostgreSQL: the session is the turn's transaction; SQLite: a savepoint within the turn's
    # savepoint, as the transaction is shared by a commit group (bot.storage.commit_groups).
    session_mode: JoinTransactionMode = "rollback_only"
    # PostgreSQL: the asyncio connection whose synchronous face `connection` is; the turn's work
    # runs in its greenlet, every statement awaited on the loop (bot.storage.postgres_turns).
    async_connection: AsyncConnection | None = None
    # …and psycopg's own connection under it, for the prepared statements.
    async_driver: Any = None
    # PostgreSQL: writes nothing in the turn reads back (its state's save), sent with the
    # commit in one round trip; and what the turn's opening round trip read ahead (its state).
    deferred: list[BoundStatement] = field(default_factory=list)
    read_ahead: list[tuple[BoundStatement, list[tuple[Any, ...]]]] = field(default_factory=list)
    _session: Session | None = None

    @property
    def session(self) -> Session:
        """An ORM session inside the turn's transaction, made when a store first asks: a plain
        question needs only the dialogue's prepared statements (`driver`), and a session's unit of
        work costs more than they do. Its commit commits nothing; the turn's commit does."""
        if self._session is None:
            if self.async_connection is not None and not self.connection.in_transaction():
                # PostgreSQL's turn began on the server in its first message; SQLAlchemy's side
                # of it is begun (nothing sent) only for a session to join.
                self.connection.begin()
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
    def has_session(self) -> bool:
        return self._session is not None

    def flush_session(self) -> None:
        if self._session is not None:
            self._session.flush()

    def close_session(self) -> None:
        if self._session is not None:
            self._session.close()

    @property
    def driver(self) -> Any:
        """The DBAPI connection under the turn, for statements prepared once (bot.storage.prepared);
        for the asyncio driver, SQLAlchemy's synchronous adapter of it (used inside `run`)."""
        return self.connection.connection.dbapi_connection

    async def rows(self, statement: BoundStatement) -> list[tuple[Any, ...]]:
        """A prepared statement in the turn; its rows."""
        if self.async_driver is None:
            return statement.rows(self.driver)
        for position, (ahead, rows) in enumerate(self.read_ahead):
            if ahead == statement:
                del self.read_ahead[position]
                return rows
        self._written()
        await self.send_deferred()
        return await statement.statement.rows_async(self.async_driver, statement.values)

    async def later(self, statement: BoundStatement) -> None:
        """A write that nothing in the turn reads back: on PostgreSQL sent with the commit."""
        if self.async_driver is None:
            statement.rows(self.driver)
            return
        self._written()
        self.deferred.append(statement)

    def _written(self) -> None:
        """What was read ahead may be stale once the turn writes (but for stable reads)."""
        self.read_ahead = [(ahead, rows) for ahead, rows in self.read_ahead if ahead.stable]

    async def send_deferred(self, *, commit: bool = False) -> None:
        """The deferred writes, in one round trip, before anything else reads or writes; with
        `commit`, COMMIT goes in the same message."""
        if not self.deferred and not commit:
            return
        writes, self.deferred = self.deferred, []
        await (
            await run_script(self.async_driver, [*writes, *(["COMMIT"] if commit else [])])
        ).close()

    async def run(self, work: Callable[[], T]) -> T:
        """`work` with the turn visible to it. PostgreSQL: in the asyncio connection's greenlet, so
        each statement is awaited and other turns go on meanwhile (one waiting for a row lock
        that another turn of this process holds included). SQLite: at once, on the loop — the
        turn holds the file's one writer lock, so no statement waits for another's."""
        if self.async_connection is None:
            return work()
        self._written()
        await self.send_deferred()
        context = contextvars.copy_context()  # the greenlet sees this turn as joined
        return await self.async_connection.run_sync(lambda _: context.run(work))


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
    """The DBAPI connection of `session`'s transaction (begun if it was not yet); for the asyncio
    driver, SQLAlchemy's synchronous adapter of it (the session runs in the turn's greenlet)."""
    return session.connection().connection.dbapi_connection


def after_commit(engine: Engine, callback: Callable[[], None]) -> None:
    """`callback` now, or when the open turn on `engine` has committed (never if it rolls back)."""
    turn = joined_turn(engine)
    if turn is None:
        callback()
    else:
        turn.after_commit.append(callback)
