"""What a shared limit costs per request: the web chat's window and Telegram's send pace, in
process and on Redis, called one after another and from many tasks at once.

    .venv/bin/python scripts/bench_limits.py [--redis redis://127.0.0.1:6379/0] [--calls 2000]

Prints p50/p99 microseconds per call and calls/s for each. Keys go under a random prefix that is
deleted afterwards. Pace slots are reserved, never waited for (only the reservation is timed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.limits.redis_window import RedisWindowLimiter
from bot.limits.send_pace import RedisSendPace
from bot.limits.shared_redis import SharedRedis
from bot.limits.window import SlidingWindowLimiter
from bot.settings import RedisSettings
from scripts.benchmark_workload import percentile

CONCURRENCY = 32


async def measure(name: str, call: Callable[[int], Awaitable[object]], calls: int) -> None:
    """Sequential latency, then throughput with CONCURRENCY tasks sharing the calls."""
    latencies = []
    for n in range(calls):
        started = time.perf_counter()
        await call(n)
        latencies.append((time.perf_counter() - started) * 1e6)
    counter = iter(range(calls))

    async def worker() -> None:
        for n in counter:
            await call(n)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    per_second = calls / (time.perf_counter() - started)
    print(
        f"{name:<28} p50 {percentile(latencies, 0.5):7.1f} µs  p99 {percentile(latencies, 0.99):7.1f}"
        f" µs  {per_second:9.0f} calls/s at {CONCURRENCY} tasks"
    )


async def main(url: str, calls: int) -> None:
    process_window = SlidingWindowLimiter(10**9)
    await measure("window, in process", lambda n: process_window.allows(f"k{n % 200}"), calls)
    redis = SharedRedis.from_settings(
        RedisSettings(url=url, key_prefix=f"bench-{uuid.uuid4().hex}")
    )
    assert redis is not None
    try:
        window = RedisWindowLimiter(redis, 10**6, name="bench")
        await measure("window, Redis (limits)", lambda n: window.allows(f"k{n % 200}"), calls)
        pace = RedisSendPace(redis, messages_per_second=10**6, per_chat_seconds=1.0)
        await measure("send pace, Redis (Lua)", lambda n: pace.reserve(n), calls)
    finally:
        keys = [key async for key in redis.client.scan_iter(match=f"{redis.key_prefix}:*")]
        if keys:
            await redis.client.delete(*keys)
        await redis.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--calls", type=int, default=2000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.redis, arguments.calls))
