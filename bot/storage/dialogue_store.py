"""The dialogue's store on the database: every call is one short transaction in a worker thread,
so the event loop never waits on SQLite or PostgreSQL and any process sees the same state."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.storage.engine import in_transaction
from bot.storage.models import QuestionRow
from bot.storage.repositories import campaigns, conversations
from handlers.messages import QuestionRecord

T = TypeVar("T")


def question_row(
    user_key: str, channel: str, record: QuestionRecord, *, text: str | None
) -> QuestionRow:
    """A question's numbers (and text, where given) as its row."""
    return QuestionRow(
        user_key=user_key,
        channel=channel,
        document_key=record.document,
        clause_id=record.clause,
        score=record.score,
        topic=record.topic,
        fallback=record.fallback,
        handoff=record.handoff,
        latency_ms=round(record.latency_ms, 3),
        text=text,
    )


class SqlDialogueStore:
    """`handlers.state.DialogueStore` on an SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def _run(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._engine, work)

    async def load_state(self, user_key: str) -> Mapping[str, Any]:
        return await self._run(lambda s: conversations.load_state(user_key, session=s))

    async def save_state(self, user_key: str, state: Mapping[str, Any]) -> None:
        await self._run(lambda s: conversations.save_state(user_key, dict(state), session=s))

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
        row = question_row(user_key, channel, record, text=text)
        return await self._run(lambda s: conversations.record_question(row, session=s))

    async def record_feedback(
        self, question_id: int, user_key: str, *, useful: bool, text: str | None
    ) -> bool:
        return await self._run(
            lambda s: conversations.record_feedback(
                question_id, user_key, useful=useful, text=text, session=s
            )
        )
