"""How every sender treats a failed send: the one retry/backoff policy and the two verdicts.

A platform's sending code turns its own errors into `RetryLater` (429 with its wait, network
errors, 5xx) or `Undeliverable` (blocked, bad request); the reply sender, the outbox and the
broadcasts then wait and give up by the same `RetryPolicy`, each with its own figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class RetryLater(Exception):
    """Delivery may work later: after `after` seconds if the platform said so, else backoff."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Undeliverable(Exception):
    """Delivery will never work (the person blocked the bot, the chat is gone, bad request)."""

    def __init__(self, reason: str, *, blocked: bool = False) -> None:
        super().__init__(reason)
        # The person blocked the bot (Telegram's 403): their subscription ends.
        self.blocked = blocked


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff from `first_backoff`, capped at `max_backoff`, `max_attempts` tries."""

    first_backoff: float
    max_backoff: float
    max_attempts: int

    def backoff(self, attempts: int) -> float:
        """The wait after the `attempts`-th failed try (1: `first_backoff`)."""
        return float(min(self.first_backoff * 2 ** max(attempts - 1, 0), self.max_backoff))

    def is_exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


async def retrying(call: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """`call` until it succeeds, retrying `RetryLater` (its wait, else backoff) within the policy."""
    attempt = 1
    while True:
        try:
            return await call()
        except RetryLater as error:
            if policy.is_exhausted(attempt):
                raise
            await asyncio.sleep(error.after if error.after is not None else policy.backoff(attempt))
            attempt += 1
