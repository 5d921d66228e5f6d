"""A broadcast's pace: a steady global rate and a gap between two sends to one chat."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.channels.delivery import RetryPolicy
from bot.settings import BroadcastSettings


@dataclass(frozen=True, slots=True)
class SendLimits:
    messages_per_second: float = 28.5
    per_chat_seconds: float = 1.0
    max_attempts: int = 6
    max_in_flight: int = 16

    @classmethod
    def from_settings(cls, settings: BroadcastSettings) -> SendLimits:
        return cls(
            messages_per_second=settings.messages_per_second,
            per_chat_seconds=settings.per_chat_seconds,
            max_attempts=settings.max_attempts,
        )

    def retry_policy(self) -> RetryPolicy:
        """Network errors and 5xx back off 0.5 s, 1 s, … up to 30 s; a 429 waits its own time."""
        return RetryPolicy(first_backoff=0.5, max_backoff=30.0, max_attempts=self.max_attempts)


class SendPacer:
    """Hands out send times: evenly spaced overall, `per_chat_seconds` apart within a chat."""

    def __init__(self, limits: SendLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / limits.messages_per_second
        self._per_chat = limits.per_chat_seconds
        self._clock = clock
        self._next_global = 0.0
        self._last_in_chat: dict[str, float] = {}

    def chat_ready_at(self, chat: str) -> float:
        last = self._last_in_chat.get(chat)
        return 0.0 if last is None else last + self._per_chat

    def reserve(self, chat: str) -> float:
        """The time to send to `chat`; call only once `chat_ready_at(chat)` has passed."""
        at = max(self._clock(), self._next_global, self.chat_ready_at(chat))
        self._next_global = at + self._interval
        self._last_in_chat[chat] = at
        return at

    def pause(self, seconds: float) -> None:
        """A 429: nothing is sent for `seconds`."""
        self._next_global = max(self._next_global, self._clock() + seconds)

    def forget(self, chat: str) -> None:
        self._last_in_chat.pop(chat, None)
