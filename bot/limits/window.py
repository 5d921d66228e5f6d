"""At most N requests per key in a sliding window: the protocol, and this process's own count."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

WINDOW_SECONDS = 60.0
# Forget idle entries once this many keys are tracked.
MAX_TRACKED_KEYS = 10_000


class WindowLimiter(Protocol):
    async def allows(self, key: str) -> bool:
        """Count one request for `key`; False when the window is already full (not counted)."""
        ...


class SlidingWindowLimiter:
    """At most `limit` requests per key in the last WINDOW_SECONDS (this process's view)."""

    def __init__(self, limit: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    async def allows(self, key: str) -> bool:
        return self.allows_now(key)

    def allows_now(self, key: str) -> bool:
        now = self._clock()
        if len(self._seen) > MAX_TRACKED_KEYS:
            self._forget_idle(now)
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= WINDOW_SECONDS:
            times.popleft()
        if len(times) >= self._limit:
            return False
        times.append(now)
        return True

    def _forget_idle(self, now: float) -> None:
        idle = [
            k for k, times in self._seen.items() if not times or now - times[-1] >= WINDOW_SECONDS
        ]
        for key in idle:
            del self._seen[key]
