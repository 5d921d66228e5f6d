"""Two bots (two processes) sending as one Telegram bot through the shared pace in Redis: the
fake Bot API server enforces Telegram's flood limits and never has to refuse one of them."""

from __future__ import annotations

import asyncio
import itertools

from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.channels.telegram.pace_limiter import PacedRateLimiter, rate_limiter
from bot.limits.send_pace import RedisSendPace
from bot.limits.shared_redis import SharedRedis
from tests.bot.limits.test_window import shared
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer

CHAT = 4242


def paced_bot(server: FakeTelegramServer, redis: SharedRedis, *, retries: int) -> ExtBot[int]:
    # Under the real limits (30/s, 1 s per chat) by a margin, so jitter on the way is no 429.
    pace = RedisSendPace(redis, messages_per_second=20, per_chat_seconds=1.25)
    return ExtBot(
        DEFAULT_TOKEN,
        base_url=server.base_url,
        rate_limiter=PacedRateLimiter(pace, max_retries=retries),
    )


async def test_two_processes_sending_together_stay_within_telegrams_limits(
    redis_section: dict[str, str],
) -> None:
    async with FakeTelegramServer(enforce_limits=True) as server:
        first, second = shared(redis_section), shared(redis_section)
        bots = [paced_bot(server, first, retries=0), paced_bot(server, second, retries=0)]
        try:
            for bot in bots:
                await bot.initialize()
            chats = itertools.chain([CHAT] * 4, range(5001, 5041))
            # Any 429 would raise here (no retries): the pace alone must keep the limits.
            await asyncio.gather(
                *(bots[n % 2].send_message(chat, f"第{n}条") for n, chat in enumerate(chats))
            )
        finally:
            for bot in bots:
                await bot.shutdown()
            await first.aclose()
            await second.aclose()
        sent = server.calls("sendMessage")
        refused = server.failed
    assert len(sent) == 44 and refused == []
    to_chat = sorted(call.at for call in sent if call.chat_id == CHAT)
    assert len(to_chat) == 4 and to_chat[-1] - to_chat[0] >= 3 * 1.25 - 0.05


async def test_a_429_pauses_the_shared_pace_and_the_send_is_retried_once(
    redis_section: dict[str, str],
) -> None:
    async with FakeTelegramServer() as server:
        redis = shared(redis_section)
        bot = paced_bot(server, redis, retries=1)
        try:
            await bot.initialize()
            server.fail_next("sendMessage", status=429, retry_after=1)
            await bot.send_message(CHAT, "你好")
            pause_key = await redis.client.get(redis.key("pace", "overall"))
        finally:
            await bot.shutdown()
            await redis.aclose()
        calls = sorted([*server.failed, *server.calls("sendMessage")], key=lambda c: c.seq)
    assert [call.status for call in calls] == [429, 200]
    assert pause_key is not None  # the pause was written for every process to see


async def test_without_retries_the_429_reaches_the_caller(redis_section: dict[str, str]) -> None:
    async with FakeTelegramServer() as server:
        redis = shared(redis_section)
        bot = paced_bot(server, redis, retries=0)
        try:
            await bot.initialize()
            server.fail_next("sendMessage", status=429, retry_after=1)
            try:
                await bot.send_message(CHAT, "你好")
            except RetryAfter:
                refused = True
            else:
                refused = False
        finally:
            await bot.shutdown()
            await redis.aclose()
    assert refused


def test_without_redis_each_process_keeps_python_telegram_bots_own_limiter() -> None:
    from telegram.ext import AIORateLimiter

    assert isinstance(rate_limiter(None), AIORateLimiter)
