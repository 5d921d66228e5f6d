"""What the dialogue keeps between messages, behind one small interface any process can share.

The bot implements it on the database (so a restart or a second process continues the same
conversation); `MemoryDialogueStore` serves the terminal chat and the tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from handlers.messages import QuestionRecord

ConversationState = Mapping[str, Any]


class DialogueStore(Protocol):
    """Conversation state (JSON-able values), people, and the questions they asked."""

    async def load_state(self, user_key: str) -> ConversationState: ...

    async def save_state(self, user_key: str, state: ConversationState) -> None: ...

    async def touch_user(
        self, user_key: str, channel: str, *, language: str | None, source: str | None
    ) -> None:
        """Record a person the first time (and a deep-link source whenever one arrives)."""

    async def record_question(
        self, user_key: str, channel: str, record: QuestionRecord, *, text: str | None
    ) -> int:
        """Store a question's numbers (and its text only when given); returns its id."""

    async def record_feedback(
        self, question_id: int, user_key: str, *, useful: bool, text: str | None
    ) -> bool:
        """Feedback on the person's own question; False when there is no such question."""


@dataclass
class StoredQuestion:
    user_key: str
    channel: str
    record: QuestionRecord
    text: str | None
    useful: bool | None = None


@dataclass
class StoredUser:
    channel: str
    language: str | None
    source: str | None


class MemoryDialogueStore:
    """One process's store: for the terminal chat and tests."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self.users: dict[str, StoredUser] = {}
        self.questions: dict[int, StoredQuestion] = {}
        self._ids = itertools.count(1)

    async def load_state(self, user_key: str) -> ConversationState:
        return dict(self.states.get(user_key, {}))

    async def save_state(self, user_key: str, state: ConversationState) -> None:
        self.states[user_key] = dict(state)

    async def touch_user(
        self, user_key: str, channel: str, *, language: str | None, source: str | None
    ) -> None:
        user = self.users.setdefault(user_key, StoredUser(channel, language, source))
        if source:
            user.source = source

    async def record_question(
        self, user_key: str, channel: str, record: QuestionRecord, *, text: str | None
    ) -> int:
        question_id = next(self._ids)
        self.questions[question_id] = StoredQuestion(user_key, channel, record, text)
        return question_id

    async def record_feedback(
        self, question_id: int, user_key: str, *, useful: bool, text: str | None
    ) -> bool:
        question = self.questions.get(question_id)
        if question is None or question.user_key != user_key:
            return False
        question.useful = useful
        if not useful and text:
            question.text = text
        return True
