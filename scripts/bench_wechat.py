"""Benchmark the WeChat channel over real HTTP (a command, not a test).

The production server (bot.app.build_app + build_server, SQLite in a temp dir) runs under uvicorn on a
free loopback port; the fake WeChat platform from tests/ signs (and in compat/safe mode encrypts)
N text messages, as many users, and checks and decrypts every reply. Prints reply latency p50/p99
(WeChat's rule: 5 s) and messages per second.

Usage: .venv/bin/python scripts/bench_wechat.py [--messages 500] [--mode safe] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from scripts.benchmark_workload import QUESTIONS, percentile, running_server  # noqa: E402
from tests.fake_wechat import AES_KEY, APPID, TOKEN, WechatPlatform  # noqa: E402


async def run(messages: int, mode: str, concurrency: int) -> None:
    wechat: dict[str, object] = {"token": TOKEN, "appid": APPID, "mode": mode}
    if mode != "plain":
        wechat["encoding_aes_key"] = AES_KEY
    async with running_server(wechat=wechat) as base_url:
        await measure(base_url, messages, mode, concurrency)


async def measure(base_url: str, messages: int, mode: str, concurrency: int) -> None:
    latencies: list[float] = []
    failures = 0
    next_message = iter(range(messages))
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        platform = WechatPlatform(http, mode=mode)

        async def worker() -> None:
            nonlocal failures
            for n in next_message:
                openid = f"oBench{n % 100:04d}"  # 100 people, 5 messages each by default
                fields = platform.text(openid, QUESTIONS[n % len(QUESTIONS)])
                started = time.perf_counter()
                reply = await platform.deliver(fields)
                latencies.append((time.perf_counter() - started) * 1000)
                if reply.fields is None or not reply.fields.get("Content"):
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    print(f"WeChat ({mode} mode, {concurrency} at a time, SQLite, loopback HTTP via uvicorn)")
    print(f"  messages            {messages} ({failures} without a text reply)")
    print(f"  throughput          {messages / elapsed:.0f} messages/s")
    print(
        f"  reply latency       p50 {percentile(latencies, 0.5):.1f} ms   "
        f"p99 {percentile(latencies, 0.99):.1f} ms   max {max(latencies):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--mode", choices=["plain", "compat", "safe"], default="safe")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.mode, args.concurrency))


if __name__ == "__main__":
    main()
