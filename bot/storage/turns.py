"""One transaction per dialogue turn, with the person's lock held until it commits.

While a turn is open, every store call on its engine (`in_transaction` / `run_transaction`) joins
the turn's session instead of committing on its own: a plain question is one write transaction
(state read, question recorded, state saved) and a referral's submit commits with the state that
ends its draft. The person's lock lives in the database, so it holds across processes:

- PostgreSQL: `pg_advisory_xact_lock` on a hash of the user key, on an asyncio connection
  (bot.storage.postgres_turns); the commit releases it.
- SQLite: `BEGIN IMMEDIATE`, the file's one writer lock, so turns queue across processes too;
  turns that follow each other closely share a commit (bot.storage.commit_groups).

Callbacks given to `after_commit` (the outbox bell) run once the turn has committed, so a sender
they wake finds the rows. The open turn itself is bot.storage.open_turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.storage.backups import is_in_memory_sqlite
from bot.storage.commit_groups import SqliteTurns
from bot.storage.open_turn import joined_turn
from bot.storage.prepared import BoundStatement

if TYPE_CHECKING:
    from bot.storage.postgres_turns import PostgresTurns

# Turns open at once per process on PostgreSQL, each on a connection of its own.
MAX_OPEN_TURNS = 16


class TurnTransactions:
    """Opens turns on one engine: `async with turns.turn(user_key): …`."""

    def __init__(self, engine: Engine, *, max_open: int = MAX_OPEN_TURNS) -> None:
        self._engine = engine
        sqlite = engine.dialect.name == "sqlite"
        # An in-memory SQLite database is one shared connection: nothing may hold it across awaits,
        # so there turns only queue in this process and each call commits on its own.
        self._shared_connection = sqlite and is_in_memory_sqlite(engine.url)
        self._queue = asyncio.Semaphore(1)
        self._sqlite = SqliteTurns(engine) if sqlite and not self._shared_connection else None
        self._postgres: PostgresTurns | None = None
        if not sqlite:
            from bot.storage.postgres_turns import PostgresTurns  # asyncio driver: PostgreSQL only

            self._postgres = PostgresTurns(engine, max_open=max_open)

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine a turn's statements go through (for their events)."""
        if self._postgres is not None:
            return (self._engine, self._postgres.turn_engine)
        return (self._engine,)

    @contextlib.asynccontextmanager
    async def turn(
        self, user_key: str, read_ahead: Sequence[BoundStatement] = ()
    ) -> AsyncIterator[None]:
        """The person's turn; `read_ahead` is what it reads first (PostgreSQL sends it with the
        turn's BEGIN and lock; SQLite, on the loop already, reads when asked)."""
        if joined_turn(self._engine) is not None:  # a turn inside a turn joins the outer one
            yield
        elif self._postgres is not None:
            async with self._postgres.turn(user_key, read_ahead):
                yield
        elif self._sqlite is not None:
            async with self._sqlite.turn(user_key):
                yield
        else:
            async with self._queue:
                yield

    async def close(self) -> None:
        if self._postgres is not None:
            await self._postgres.close()
        if self._sqlite is not None:
            self._sqlite.close()
