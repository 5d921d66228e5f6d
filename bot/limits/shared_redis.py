"""The process's one Redis client and the prefix every key of this deployment carries."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.settings import RedisSettings

if TYPE_CHECKING:
    from redis.asyncio import Redis

# A Redis that does not answer within this long is treated as down (requests must not hang).
SOCKET_TIMEOUT_SECONDS = 2.0
PING_TIMEOUT_SECONDS = 1.0


class SharedRedis:
    """One asyncio client per process; connections open lazily on the running loop."""

    def __init__(self, client: Redis, key_prefix: str) -> None:
        self.client = client
        self.key_prefix = key_prefix

    @classmethod
    def from_settings(cls, settings: RedisSettings) -> SharedRedis | None:
        """None without `[redis] url`: every limit stays in this process."""
        if settings.url is None:
            return None
        # Imported only when configured: a bot without Redis never loads the client.
        from redis.asyncio import Redis

        client = Redis.from_url(
            settings.url,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        )
        return cls(client, settings.key_prefix)

    def key(self, *parts: str) -> str:
        return ":".join((self.key_prefix, *parts))

    async def answers(self) -> bool:
        """Whether Redis answers PING in time (for /healthz); never raises."""
        from redis.exceptions import RedisError

        try:
            return bool(await asyncio.wait_for(self.client.ping(), PING_TIMEOUT_SECONDS))
        except (RedisError, OSError, TimeoutError):
            return False

    async def aclose(self) -> None:
        await self.client.aclose()
