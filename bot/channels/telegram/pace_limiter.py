"""python-telegram-bot's rate limiter on the shared send pace (with `[redis] url`): every Bot API
call that names a chat waits for its slot, so all processes sending as this bot keep Telegram's
30 messages/s and 1/s per chat together. A 429 pauses the pace for everyone, then the call is
retried (like AIORateLimiter, which each process uses on its own when there is no Redis)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from redis.exceptions import RedisError
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter

from bot.channels.telegram.sending import retry_after_seconds
from bot.events import log_event
from bot.limits.send_pace import SendPace

JSONResult = Any
# After Telegram's retry_after, a little more: the pause must outlast Telegram's own.
RETRY_AFTER_MARGIN_SECONDS = 0.1
# Telegram's overall limit, for AIORateLimiter when no pace is shared.
TELEGRAM_MESSAGES_PER_SECOND = 30


class PacedRateLimiter(BaseRateLimiter[int]):
    def __init__(self, pace: SendPace, *, max_retries: int = 3) -> None:
        self._pace = pace
        self._max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to open: the Redis client belongs to the application."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        chat_id = data.get("chat_id")
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            if chat_id is not None:
                await self._wait_for_slot(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_after_seconds(error) + RETRY_AFTER_MARGIN_SECONDS
                await self._pause_everyone(seconds)
                log_event("telegram_flood_wait", seconds=seconds, endpoint=endpoint)
                if attempt == retries:
                    raise  # the caller waits it out itself (the broadcaster does)
                await asyncio.sleep(seconds)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _wait_for_slot(self, chat_id: object) -> None:
        try:
            wait = (await self._pace.reserve(as_chat(chat_id))).wait_seconds
        except RedisError as error:
            # Redis down: send unpaced rather than not at all; Telegram's 429s still slow us.
            log_event("send_pace_unavailable", logging.WARNING, error=type(error).__name__)
            return
        if wait > 0:
            await asyncio.sleep(wait)

    async def _pause_everyone(self, seconds: float) -> None:
        try:
            await self._pace.pause(seconds)
        except RedisError as error:
            log_event("send_pace_unavailable", logging.WARNING, error=type(error).__name__)


def as_chat(chat_id: object) -> int | str:
    """An integer id when it is one (PTB passes ints, users may pass "123"), else the @name."""
    try:
        return int(str(chat_id))
    except ValueError:
        return str(chat_id)


def rate_limiter(
    pace: SendPace | None,
    *,
    max_retries: int = 3,
    overall_per_second: float = TELEGRAM_MESSAGES_PER_SECOND,
) -> BaseRateLimiter[Any]:
    """The shared pace when there is one, else this process's AIORateLimiter (as before)."""
    if pace is None:
        return AIORateLimiter(overall_max_rate=overall_per_second, max_retries=max_retries)
    return PacedRateLimiter(pace, max_retries=max_retries)
