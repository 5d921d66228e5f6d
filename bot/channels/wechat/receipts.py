"""Which WeChat messages were already received, and the reply each got: in the database by
default (`ChannelStore`), or with `[redis] url` in Redis — `SET … NX EX` claims a message for
every process at once without a database round trip, and the reply waits there for WeChat's
retries. Either way a receipt lasts the channel's receipt retention (twice the replay window).
The numbered choices always stay in the database, the state they belong to."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from bot.events import log_event
from bot.limits.shared_redis import SharedRedis
from bot.storage.channel_store import ChannelStore, Claim
from handlers.messages import Choice


class WechatStore(Protocol):
    """What the WeChat channel remembers between callbacks."""

    async def claim_receipt(
        self, dedupe_key: str, user_key: str, *, keep_for: timedelta
    ) -> Claim: ...

    async def store_reply(
        self,
        dedupe_key: str,
        reply: str,
        *,
        user_key: str,
        choices: tuple[Choice, ...] | None,
        rest: str | None,
    ) -> None: ...

    async def stored_reply(self, dedupe_key: str) -> str | None: ...

    async def load_choices(self, user_key: str) -> tuple[tuple[Choice, ...], str | None]: ...

    async def forget_choices(self, user_key: str) -> None: ...


class RedisReceipts:
    """Receipts and replies in Redis, choices in the database. If Redis fails, the message falls
    back to the database receipts (logged), so it is still answered once per process."""

    def __init__(self, redis: SharedRedis, store: ChannelStore) -> None:
        self._redis = redis
        self._store = store
        # The reply of a message claimed in the database while Redis was down stays there.
        self._keep_for: dict[str, int] = {}

    def _receipt_key(self, dedupe_key: str) -> str:
        return self._redis.key("wechat", "receipt", dedupe_key)

    def _reply_key(self, dedupe_key: str) -> str:
        return self._redis.key("wechat", "reply", dedupe_key)

    async def claim_receipt(self, dedupe_key: str, user_key: str, *, keep_for: timedelta) -> Claim:
        # redis-py is loaded only once Redis is configured (which this class needs).
        from redis.exceptions import RedisError

        seconds = max(1, int(keep_for.total_seconds()))
        try:
            first = await self._redis.client.set(
                self._receipt_key(dedupe_key), 1, nx=True, ex=seconds
            )
        except RedisError as error:
            log_event("wechat_receipts_fallback", logging.WARNING, error=type(error).__name__)
            return await self._store.claim_receipt(dedupe_key, user_key, keep_for=keep_for)
        if not first:
            return Claim(False, (), None)
        self._keep_for[dedupe_key] = seconds
        choices, rest = await self._store.load_choices(user_key)
        return Claim(True, choices, rest)

    async def store_reply(
        self,
        dedupe_key: str,
        reply: str,
        *,
        user_key: str,
        choices: tuple[Choice, ...] | None,
        rest: str | None,
    ) -> None:
        seconds = self._keep_for.pop(dedupe_key, None)
        if seconds is None:  # claimed in the database (Redis was down then)
            await self._store.store_reply(
                dedupe_key, reply, user_key=user_key, choices=choices, rest=rest
            )
            return
        from redis.exceptions import RedisError

        try:
            await self._redis.client.set(self._reply_key(dedupe_key), reply, ex=seconds)
        except RedisError as error:
            log_event("wechat_reply_unstored", logging.WARNING, error=type(error).__name__)
        if choices is not None:
            await self._store.save_choices(user_key, choices, rest)

    async def stored_reply(self, dedupe_key: str) -> str | None:
        from redis.exceptions import RedisError

        try:
            stored = await self._redis.client.get(self._reply_key(dedupe_key))
        except RedisError:
            return await self._store.stored_reply(dedupe_key)
        return stored.decode("utf-8") if isinstance(stored, bytes) else stored

    async def load_choices(self, user_key: str) -> tuple[tuple[Choice, ...], str | None]:
        return await self._store.load_choices(user_key)

    async def forget_choices(self, user_key: str) -> None:
        await self._store.forget_choices(user_key)
