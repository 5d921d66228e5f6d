"""Benchmark the web chat's JSON API over real HTTP (a command, not a test).

The production server (build_runtime + build_app, SQLite in a temp dir) runs under uvicorn on a
free loopback port with the rate limits lifted; C clients post questions and chip choices to
/api/chat, each as its own session, for N requests in all. Prints requests per second and
latency p50/p99.

Usage: .venv/bin/python scripts/bench_web_chat.py [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from bot.runtime import build_runtime  # noqa: E402
from bot.server import build_app  # noqa: E402
from bot.settings import load_settings  # noqa: E402

QUESTIONS = (
    "老板欠了三个月工资怎么办", "孩子能在天津上公办小学吗", "积分落户要多少分", "公租房怎么申请",
    "工伤保险回老家还能领吗", "去技校学电焊有补贴吗", "春风行动招聘会什么时候", "社保能转回老家吗",
    "返乡创业能贷款吗", "知工APP在哪下载", "没签劳动合同怎么办", "失业了能在天津登记吗",
    "過年有啥服務", "zai tianjin neng luohu ma", "明天下雨吗",
)  # fmt: skip
UNLIMITED = 10**9


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def run(requests: int, concurrency: int) -> None:
    directory = Path(tempfile.mkdtemp())
    config = directory / "empty.toml"
    config.write_text("", encoding="utf-8")
    settings = load_settings(
        config,
        database={"url": f"sqlite:///{directory / 'bench.db'}"},
        web_chat={
            "requests_per_minute_per_session": UNLIMITED,
            "requests_per_minute_per_ip": UNLIMITED,
        },
        logging={"level": "WARNING"},
    )
    runtime = build_runtime(settings)
    app = build_app(
        settings,
        dialogue=runtime.dialogue,
        user_keys=runtime.user_keys,
        engine=runtime.engine,
        converter=runtime.matcher.converter,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    latencies: list[float] = []
    errors = 0
    next_request = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits
    ) as http:

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
    server.should_exit = True
    await serving
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
