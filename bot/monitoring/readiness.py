"""/healthz: ready only when the database answers (and Redis, when configured); the body says
which part failed and which limiter this process uses (Redis, or its own memory)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine, text

from bot.limits.shared_redis import SharedRedis

# A load balancer asks often; a database that takes longer than this is not ready.
DATABASE_TIMEOUT_SECONDS = 2.0
OK, FAILED, NOT_CONFIGURED = "ok", "failed", "not configured"


def select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


class Readiness:
    def __init__(self, engine: Engine, redis: SharedRedis | None) -> None:
        self._engine = engine
        self._redis = redis

    async def database(self) -> str:
        try:
            # In a thread: a slow database must not stall the event loop.
            await asyncio.wait_for(
                asyncio.to_thread(select_one, self._engine), DATABASE_TIMEOUT_SECONDS
            )
        except Exception:  # any failure (refused, timed out, schema gone) is "not ready"
            return FAILED
        return OK

    async def redis(self) -> str:
        if self._redis is None:
            return NOT_CONFIGURED
        return OK if await self._redis.answers() else FAILED

    async def report(self) -> dict[str, Any]:
        database, redis = await asyncio.gather(self.database(), self.redis())
        return {
            "ready": database == OK and redis != FAILED,
            "database": database,
            "redis": redis,
            "limiter": "process" if self._redis is None else "redis",
        }
