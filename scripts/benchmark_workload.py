"""What the benchmark commands share: the questions workers ask, percentiles, and the production
server (bot.app.build_app + build_server, SQLite in a temp dir) under uvicorn on a free port."""

from __future__ import annotations

import asyncio
import math
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

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
