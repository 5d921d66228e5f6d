"""Engines for the two supported databases: SQLite (one machine) and PostgreSQL (several processes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlmodel import Session, create_engine

from bot.storage.backups import is_in_memory_sqlite
from bot.storage.open_turn import (
    BUSY_TIMEOUT_PRAGMA,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    joined_turn,
)
from bot.storage.schema import upgrade

# A failing statement's exception (and `echo`) would show the values it was given: phone numbers,
# descriptions, question texts, user keys. Every engine hides them; bot.events scrubs them too.
HIDE_PARAMETERS = True
POSTGRES_DRIVER = "postgresql+psycopg"
# The senders, the console and the housekeeping round; the turns have a pool of their own
# (bot.storage.postgres_turns).
POSTGRES_POOL_SIZE = 8
POSTGRES_POOL_OVERFLOW = 8

T = TypeVar("T")


def run_transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    """`work` in one committed transaction (rolled back if it raises); the one helper for it.

    Rows `work` returns keep their loaded values after the commit, so callers may read them once
    the session is closed. Inside an open turn on `engine` (bot.storage.turns), `work` joins the
    turn's transaction instead, which commits when the turn ends.
    """
    turn = joined_turn(engine)
    if turn is not None:
        result = work(turn.session)
        turn.session.flush()
        return result
    with Session(engine, expire_on_commit=False) as session:
        result = work(session)
        session.commit()
        return result


async def in_transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    """`run_transaction` in a worker thread, so the event loop never waits on the database (inside
    an open turn, on the turn's own thread pool)."""
    turn = joined_turn(engine)
    if turn is not None:
        return await turn.run(lambda: run_transaction(engine, work))
    return await asyncio.to_thread(run_transaction, engine, work)


def create_engine_for(url: str, *, echo: bool = False) -> Engine:
    """An engine for a `sqlite:///…` or `postgresql[+psycopg]://…` URL, tuned for this bot."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _create_sqlite_engine(parsed, echo=echo)
    if backend == "postgresql":
        # Only psycopg 3 is installed; a bare postgresql:// would make SQLAlchemy look for psycopg2.
        return create_engine(
            parsed.set(drivername=POSTGRES_DRIVER),
            echo=echo,
            pool_pre_ping=True,
            pool_size=POSTGRES_POOL_SIZE,
            max_overflow=POSTGRES_POOL_OVERFLOW,
            hide_parameters=HIDE_PARAMETERS,
        )
    raise ValueError(f"unsupported database '{backend}': use sqlite or postgresql")


def init_db(engine: Engine) -> None:
    """The schema at head by the migrations, whatever the database holds (an empty one gets every
    revision, a 6a79bf1 one is stamped first); no backup. A start goes through
    `bot.storage.schema.prepare_schema` instead, which backs up SQLite and never alters PostgreSQL."""
    upgrade(engine, back_up=False)


def _create_sqlite_engine(url: URL, *, echo: bool) -> Engine:
    connect_args: dict[str, Any] = {
        # Sessions may be used from worker threads (asyncio.to_thread); SQLAlchemy pools them.
        "check_same_thread": False,
        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
    }
    if is_in_memory_sqlite(url):
        # Each connection to :memory: is a new, empty database: share one connection.
        engine = create_engine(
            url,
            echo=echo,
            connect_args=connect_args,
            poolclass=StaticPool,
            hide_parameters=HIDE_PARAMETERS,
        )
    else:
        assert url.database is not None  # not in-memory, so a file path
        # Anchor a relative path to the directory the process started in, once.
        database = Path(url.database).expanduser().resolve()
        database.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url.set(database=str(database)),
            echo=echo,
            connect_args=connect_args,
            hide_parameters=HIDE_PARAMETERS,
        )
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Per connection: SQLite forgets foreign keys and the busy timeout on every new connection.
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers carry on while one process writes; the setting sticks to the file.
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a killed process loses
        # nothing, only a power cut may lose the last commits (SQLite's recommended pairing).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(BUSY_TIMEOUT_PRAGMA)
    finally:
        cursor.close()
