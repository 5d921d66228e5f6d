"""One lock per person, so two messages from one person never run through the dialogue at once
(a flow's steps must not race); different people still run concurrently. Per process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class KeyLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def holding(self, key: str) -> AsyncIterator[bool]:
        """Hold the key's lock; yields whether another holder had to be waited for."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        waited = lock.locked()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield waited
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody holds or waits: forget it, so the map stays small
                del self._users[key]
                del self._locks[key]
