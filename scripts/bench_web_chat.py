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
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from scripts.benchmark_workload import QUESTIONS, percentile, running_server  # noqa: E402

UNLIMITED = 10**9


async def run(requests: int, concurrency: int) -> None:
    unlimited = {
        "requests_per_minute_per_session": UNLIMITED,
        "requests_per_minute_per_ip": UNLIMITED,
    }
    async with running_server(web_chat=unlimited) as base_url:
        await measure(base_url, requests, concurrency)


async def measure(base_url: str, requests: int, concurrency: int) -> None:
    latencies: list[float] = []
    errors = 0
    next_request = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:

        async def client(number: int) -> None:
            nonlocal errors
            session = f"bench-session-{number:04d}-{os.getpid()}"
            choice: str | None = None
            for n in next_request:
                body: dict[str, object] = {"session": session}
                if choice is not None and n % 3 == 0:
                    body["choice"] = choice  # tap the first chip of the last answer
                else:
                    body["text"] = QUESTIONS[n % len(QUESTIONS)]
                started = time.perf_counter()
                response = await http.post("/api/chat", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors += 1
                    continue
                replies = response.json()["replies"]
                chips = [c["choice"] for r in replies for c in r["choices"]]
                choice = chips[0] if chips else None

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    print(f"/api/chat ({concurrency} clients, SQLite, loopback HTTP via uvicorn, one process)")
    print(f"  requests            {requests} ({errors} errors)")
    print(f"  throughput          {requests / elapsed:.0f} requests/s")
    print(
        f"  latency             p50 {percentile(latencies, 0.5):.1f} ms   "
        f"p99 {percentile(latencies, 0.99):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency))


if __name__ == "__main__":
    main()
