"""The dialogue's store on the database. A turn (`turn`) is one transaction holding the person's
lock in the database, so any process continues the same conversation and two messages of one
person never interleave. Inside a turn the calls run on the turn's connection (bot.storage.turns);
outside one, in a worker thread, so the event loop never waits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.storage.engine import in_transaction
from bot.storage.open_turn import driver_connection, joined_turn
from bot.storage.prepared import BoundStatement
from bot.storage.repositories import campaigns, conversations
from bot.storage.repositories.conversations import DialogueStatements
from bot.storage.turns import TurnTransactions
from handlers.messages import QuestionRecord

T = TypeVar("T")


def question_values(
    user_key: str, channel: str, record: QuestionRecord, *, text: str | None
) -> dict[str, Any]:
    """A question's numbers (and text, where given) as its row's columns."""
    return {
        "user_key": user_key,
        "channel": channel,
        "document_key": record.document,
        "clause_id": record.clause,
        "score": record.score,
        "topic": record.topic,
        "fallback": record.fallback,
        "handoff": record.handoff,
        "latency_ms": round(record.latency_ms, 3),
        "text": text,
    }


class SqlDialogueStore:
    """`handlers.state.DialogueStore` on an SQLAlchemy engine."""

    def __init__(self, engine: Engine, turns: TurnTransactions | None = None) -> None:
        self._engine = engine
        # The application hands in the one its other parts share; a store alone makes its own.
        self._turns = turns or TurnTransactions(engine)
        self._statements = DialogueStatements(engine.dialect)

    def turn(self, user_key: str) -> AbstractAsyncContextManager[None]:
        # What every turn reads: the person's state, read with the turn's lock, and (PostgreSQL)
        # an id for the question it may record.
        statements = self._statements
        ahead = [statements.load(user_key)]
        if statements.reserves_ids:
            ahead.append(statements.next_question_id())
        return self._turns.turn(user_key, read_ahead=ahead)

    async def _run(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._engine, work)

    async def _rows(self, statement: BoundStatement) -> list[tuple[Any, ...]]:
        """On the open turn's connection, or in a transaction of its own."""
        turn = joined_turn(self._engine)
        if turn is not None:
            return await turn.rows(statement)
        return await self._run(lambda session: statement.rows(driver_connection(session)))

    async def load_state(self, user_key: str) -> Mapping[str, Any]:
        return self._statements.state(await self._rows(self._statements.load(user_key)))

    async def save_state(self, user_key: str, state: Mapping[str, Any]) -> None:
        save = self._statements.save(user_key, state)
        turn = joined_turn(self._engine)
        if turn is not None:
            await turn.later(save)  # read back by nothing in the turn: sent with its commit
        else:
            await self._rows(save)

    async def touch_user(
        self, user_key: str, channel: str, *, language: str | None, source: str | None
    ) -> None:
        def touch(session: Session) -> None:
            conversations.touch_user(
                user_key, channel, language=language, source=source, session=session
            )
            if source:  # a poster's deep link: attribute it to its campaign and place
                campaigns.record_arrival(user_key, source, session=session)

        await self._run(touch)

    async def record_question(
        self, user_key: str, channel: str, record: QuestionRecord, *, text: str | None
    ) -> int:
        values = question_values(user_key, channel, record, text=text)
        statements = self._statements
        turn = joined_turn(self._engine)
        if turn is not None and statements.reserves_ids:
            # Its id was taken when the turn opened; its row goes with the commit.
            question_id = statements.question_id(await turn.rows(statements.next_question_id()))
            await turn.later(statements.record_with_id(question_id, values))
            return question_id
        return statements.question_id(await self._rows(statements.record(values)))

    async def record_feedback(
        self, question_id: int, user_key: str, *, useful: bool, text: str | None
    ) -> bool:
        return await self._run(
            lambda s: conversations.record_feedback(
                question_id, user_key, useful=useful, text=text, session=s
            )
        )
