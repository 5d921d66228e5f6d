"""What the dialogue keeps between messages, behind one small interface any process can share.

`ConversationState` is the typed state every flow reads and changes; the store keeps it as JSON.
The bot implements the store on the database (so a restart or a second process continues the same
conversation); `MemoryDialogueStore` serves the terminal chat and the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from handlers.draft import ReferralDraft, SubmittedReferral
from handlers.job_draft import JobDraft
from handlers.messages import QuestionRecord

# The stored form: JSON-able values under the keys `ConversationState.to_json` writes.
StoredState = Mapping[str, Any]


class Script(StrEnum):
    SIMPLIFIED = "simplified"
    TRADITIONAL = "traditional"


@dataclass
class LastQuestion:
    """The last answered question's text waits here until its 有用/没用 press or the next question."""

    id: int
    text: str

    @classmethod
    def from_json(cls, stored: object) -> LastQuestion | None:
        if not isinstance(stored, dict):
            return None
        question_id, text = stored.get("id"), stored.get("text")
        if not isinstance(question_id, int) or not isinstance(text, str):
            return None
        return cls(question_id, text)


@dataclass
class ConversationState:
    """One person's conversation between messages; every field's default is "nothing kept"."""

    known: bool = False  # the person is recorded (touch_user ran)
    script: Script | None = None  # how they write, so replies come back the same way
    last_question: LastQuestion | None = None
    legal_aid: ReferralDraft | None = None
    # The referral just submitted (committed with the case, in the same transaction).
    submitted: SubmittedReferral | None = None
    forget_asked: bool = False  # /forget asked for its confirmation with the last reply
    jobs: JobDraft | None = None  # job preferences being chosen (/jobs)

    def clear(self) -> None:
        """Forget everything (after /forget)."""
        self.known, self.script, self.last_question = False, None, None
        self.legal_aid, self.submitted, self.forget_asked, self.jobs = None, None, False, None

    def to_json(self) -> dict[str, Any]:
        """The stored form; fields at their default are left out (an empty state is `{}`)."""
        stored: dict[str, Any] = {}
        if self.known:
            stored["known"] = True
        if self.script is not None:
            stored["script"] = self.script.value
        if self.last_question is not None:
            stored["last_question"] = {"id": self.last_question.id, "text": self.last_question.text}
        if self.legal_aid is not None:
            stored["legal_aid"] = self.legal_aid.to_json()
        if self.submitted is not None:
            stored["legal_aid_submitted"] = self.submitted.to_json()
        if self.forget_asked:
            stored["forget_asked"] = True
        if self.jobs is not None:
            stored["jobs"] = self.jobs.to_json()
        return stored

    @classmethod
    def from_json(cls, stored: StoredState) -> ConversationState:
        """Read a stored state, including rows older versions wrote; unreadable parts are dropped."""
        script = stored.get("script")
        return cls(
            known=bool(stored.get("known")),
            script=Script(script) if script in (Script.SIMPLIFIED, Script.TRADITIONAL) else None,
            last_question=LastQuestion.from_json(stored.get("last_question")),
            legal_aid=ReferralDraft.from_json(stored.get("legal_aid")),
            submitted=SubmittedReferral.from_json(stored.get("legal_aid_submitted")),
            forget_asked=bool(stored.get("forget_asked")),
            jobs=JobDraft.from_json(stored.get("jobs")),
        )


class DialogueStore(Protocol):
    """Conversation state (stored as JSON), people, and the questions they asked."""

    def turn(self, user_key: str) -> AbstractAsyncContextManager[None]:
        """Hold the person's lock for one turn; the store's calls inside it are saved together
        when it ends, or not at all when it raises."""
        ...

    async def load_state(self, user_key: str) -> StoredState: ...

    async def save_state(self, user_key: str, state: StoredState) -> None: ...

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
        self._locks: dict[str, asyncio.Lock] = {}
        self._held: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
            "memory_dialogue_turns", default=frozenset()
        )

    @contextlib.asynccontextmanager
    async def turn(self, user_key: str) -> AsyncIterator[None]:
        # One process: a lock per person is all a turn needs (no rollback: nothing is durable).
        # A turn inside the person's turn (a channel's around the dialogue's) joins it.
        held = self._held.get()
        if user_key in held:
            yield
            return
        async with self._locks.setdefault(user_key, asyncio.Lock()):
            token = self._held.set(held | {user_key})
            try:
                yield
            finally:
                self._held.reset(token)

    async def load_state(self, user_key: str) -> StoredState:
        return dict(self.states.get(user_key, {}))

    async def save_state(self, user_key: str, state: StoredState) -> None:
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
