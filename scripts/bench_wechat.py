"""Benchmark the WeChat channel over real HTTP (a command, not a test).

The production server (build_runtime + build_app, SQLite in a temp dir) runs under uvicorn on a
free loopback port; the fake WeChat platform from tests/ signs (and in compat/safe mode encrypts)
N text messages, as many users, and checks and decrypts every reply. Prints reply latency p50/p99
(WeChat's rule: 5 s) and messages per second.

Usage: .venv/bin/python scripts/bench_wechat.py [--messages 500] [--mode safe] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import asyncio
import math
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
from tests.fake_wechat import AES_KEY, APPID, TOKEN, WechatPlatform  # noqa: E402

QUESTIONS = (
    "老板欠了三个月工资怎么办", "孩子能在天津上公办小学吗", "积分落户要多少分", "公租房怎么申请",
    "工伤保险回老家还能领吗", "去技校学电焊有补贴吗", "春风行动招聘会什么时候", "社保能转回老家吗",
    "返乡创业能贷款吗", "知工APP在哪下载", "没签劳动合同怎么办", "失业了能在天津登记吗",
    "過年有啥服務", "zai tianjin neng luohu ma", "明天下雨吗", "菜单", "1", "2",
)  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def run(messages: int, mode: str, concurrency: int) -> None:
    directory = Path(tempfile.mkdtemp())
    config = directory / "empty.toml"
    config.write_text("", encoding="utf-8")
    wechat: dict[str, object] = {"token": TOKEN, "appid": APPID, "mode": mode}
    if mode != "plain":
        wechat["encoding_aes_key"] = AES_KEY
    settings = load_settings(
        config,
        database={"url": f"sqlite:///{directory / 'bench.db'}"},
        wechat=wechat,
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
    failures = 0
    next_message = iter(range(messages))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
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
    server.should_exit = True
    await serving
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
