"""What the benchmark commands share: the questions workers ask, percentiles, and the production
server (bot.app.build_app + build_server, SQLite in a temp dir) under uvicorn on a free port."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bot.app import build_app
from bot.server import build_server
from bot.settings import Settings, load_settings

QUESTIONS = (
    "老板欠了三个月工资怎么办", "孩子能在天津上公办小学吗", "积分落户要多少分", "公租房怎么申请",
    "工伤保险回老家还能领吗", "去技校学电焊有补贴吗", "春风行动招聘会什么时候", "社保能转回老家吗",
    "返乡创业能贷款吗", "知工APP在哪下载", "没签劳动合同怎么办", "失业了能在天津登记吗",
    "過年有啥服務", "zai tianjin neng luohu ma", "明天下雨吗",
)  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bench_settings(**sections: Any) -> Settings:
    """Defaults with SQLite in a fresh temp dir and `sections` as overrides (no config.toml)."""
    directory = Path(tempfile.mkdtemp())
    config = directory / "empty.toml"
    config.write_text("", encoding="utf-8")
    return load_settings(
        config,
        database={"url": f"sqlite:///{directory / 'bench.db'}"},
        logging={"level": "WARNING"},
        **sections,
    )


@asynccontextmanager
async def running_server(**sections: Any) -> AsyncIterator[str]:
    """The production app with `sections` as settings overrides; yields its base URL."""
    wired = build_app(bench_settings(**sections))
    app = build_server(wired, wired.channels())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@dataclass(frozen=True)
class LoadFigures:
    requests: int
    errors: int
    seconds: float
    p50: float
    p99: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


async def chat_load(base_urls: Sequence[str], requests: int, concurrency: int) -> LoadFigures:
    """`concurrency` clients, each its own session, post QUESTIONS and (every third request) the
    first chip of their last answer to /api/chat, `requests` in all; request n goes to
    `base_urls[n % len(base_urls)]`, as a round-robin proxy sends them."""
    latencies: list[float] = []
    errors = 0
    next_request = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

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
                url = f"{base_urls[n % len(base_urls)]}/api/chat"
                response = await http.post(url, json=body)
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
    return LoadFigures(
        requests, errors, elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99)
    )
