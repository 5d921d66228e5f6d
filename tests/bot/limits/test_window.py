"""The request windows: this process's own, and the one two processes share through Redis."""

from __future__ import annotations

import asyncio

from bot.limits.redis_window import RedisWindowLimiter
from bot.limits.shared_redis import SharedRedis
from bot.limits.window import SlidingWindowLimiter
from bot.settings import RedisSettings
from tests.conftest import free_port


def shared(section: dict[str, str]) -> SharedRedis:
    """A process's own client (each test 'process' gets its own connections)."""
    redis = SharedRedis.from_settings(RedisSettings(**section))
    assert redis is not None
    return redis


async def test_the_process_limiter_allows_again_after_the_window() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(1, clock=lambda: now[0])
    assert await limiter.allows("a") and not await limiter.allows("a")
    assert await limiter.allows("b")  # keys are counted apart
    now[0] = 61.0
    assert await limiter.allows("a")


async def test_two_processes_in_memory_each_count_alone() -> None:
    # What the shared limiter is for: without Redis, two processes let through twice the limit.
    first, second = SlidingWindowLimiter(30), SlidingWindowLimiter(30)
    allowed = [await (first if n % 2 else second).allows("session") for n in range(60)]
    assert sum(allowed) == 60


async def test_two_processes_on_one_redis_hold_the_limit_together(
    redis_section: dict[str, str],
) -> None:
    first, second = shared(redis_section), shared(redis_section)
    try:
        limiters = [RedisWindowLimiter(r, 30, name="web-session") for r in (first, second)]
        allowed = [await limiters[n % 2].allows("we-session") for n in range(60)]
        assert sum(allowed) == 30 and all(allowed[:30]) and not any(allowed[30:])
        # Another key has its own window; at once from both processes, still 30 in total.
        burst = await asyncio.gather(*(limiters[n % 2].allows("we-other") for n in range(80)))
        assert sum(burst) == 30
    finally:
        await first.aclose()
        await second.aclose()


async def test_limits_of_different_names_do_not_share_a_window(
    redis_section: dict[str, str],
) -> None:
    redis = shared(redis_section)
    try:
        per_session = RedisWindowLimiter(redis, 1, name="web-session")
        per_ip = RedisWindowLimiter(redis, 1, name="web-ip")
        assert await per_session.allows("k") and await per_ip.allows("k")
        assert not await per_session.allows("k")
    finally:
        await redis.aclose()


async def test_a_redis_that_does_not_answer_lets_requests_through() -> None:
    redis = shared({"url": f"redis://127.0.0.1:{free_port()}/0", "key_prefix": "down"})
    try:
        assert await RedisWindowLimiter(redis, 1, name="web-session").allows("k")
        assert not await redis.answers()
    finally:
        await redis.aclose()
