"""The sliding window shared by every process: `limits`' moving window on Redis (one Lua script
checks and counts atomically, so two processes together let through `limit`, not twice it)."""

from __future__ import annotations

import logging
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from bot.events import log_event
from bot.limits.shared_redis import SharedRedis


class RedisWindowLimiter:
    """At most `limit` requests per key per minute across processes. Keys should already be
    hashed (no session token or address is stored raw)."""

    def __init__(self, redis: SharedRedis, limit: int, *, name: str) -> None:
        # The storage shares the process's connection pool: one client, one set of sockets.
        shared: dict[str, Any] = {"connection_pool": redis.client.connection_pool}
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=redis.key("window", name),
            **shared,
        )
        self._strategy = MovingWindowRateLimiter(storage)
        self._item = RateLimitItemPerMinute(limit)
        self._name = name

    async def allows(self, key: str) -> bool:
        try:
            return await self._strategy.hit(self._item, key)
        except RedisError as error:
            # Redis down: answer the worker (fail open) and say so; /healthz reports it too.
            log_event(
                "rate_limit_unavailable",
                logging.WARNING,
                limit=self._name,
                error=type(error).__name__,
            )
            return True
