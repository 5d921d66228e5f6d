"""Per-person conversation state, kept behind a small interface so any process can continue it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

ConversationState = Mapping[str, Any]


class ConversationStore(Protocol):
    """Where the dialogue keeps what it must remember between messages (JSON-able values only)."""

    async def load(self, user_key: str) -> ConversationState: ...

    async def save(self, user_key: str, state: ConversationState) -> None: ...


class MemoryConversationStore:
    """A store for one process: the terminal chat and tests; the bot uses the database's."""

    def __init__(self) -> None:
        self._states: dict[str, dict[str, Any]] = {}

    async def load(self, user_key: str) -> ConversationState:
        return dict(self._states.get(user_key, {}))

    async def save(self, user_key: str, state: ConversationState) -> None:
        self._states[user_key] = dict(state)
