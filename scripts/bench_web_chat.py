"""Benchmark the web chat's JSON API over real HTTP (a command, not a test).

The production server (bot.app.build_app + build_server, SQLite in a temp dir) runs under uvicorn on a
free loopback port with the rate limits lifted; C clients post questions and chip choices to
/api/chat, each as its own session, for N requests in all. Prints requests per second and
latency p50/p99.

Usage: .venv/bin/python scripts/bench_web_chat.py [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.benchmark_workload import chat_load, running_server  # noqa: E402

UNLIMITED = 10**9


async def run(requests: int, concurrency: int) -> None:
    unlimited = {
        "requests_per_minute_per_session": UNLIMITED,
        "requests_per_minute_per_ip": UNLIMITED,
    }
    async with running_server(web_chat=unlimited) as base_url:
        await measure(base_url, requests, concurrency)


async def measure(base_url: str, requests: int, concurrency: int) -> None:
    figures = await chat_load([base_url], requests, concurrency)
    print(f"/api/chat ({concurrency} clients, SQLite, loopback HTTP via uvicorn, one process)")
    print(f"  requests            {requests} ({figures.errors} errors)")
    print(f"  throughput          {figures.throughput:.0f} requests/s")
    print(f"  latency             p50 {figures.p50:.1f} ms   p99 {figures.p99:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency))


if __name__ == "__main__":
    main()
