"""Benchmark the Telegram channel end to end (a command, not a test).

The real python-telegram-bot Application polls the fake Bot API server from tests/ over loopback
HTTP; N simulated users each ask Q questions; every reply must arrive. Prints updates handled per
second, reply latency percentiles and the process's peak resident memory.

Usage: .venv/bin/python scripts/bench_telegram.py [--users 200] [--questions 5]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.database import create_engine_for, init_db  # noqa: E402
from bot.dialogue_store import SqlDialogueStore  # noqa: E402
from bot.knowledge_base import build_matcher, import_startup_sources  # noqa: E402
from bot.telegram_channel import TelegramDeps, build_application  # noqa: E402
from bot.user_keys import UserKeyHasher  # noqa: E402
from handlers.flows import build_dialogue  # noqa: E402
from scripts.benchmark_workload import QUESTIONS, percentile  # noqa: E402
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer  # noqa: E402


async def run(users: int, questions: int, overall_per_second: float) -> None:
    engine = create_engine_for(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    init_db(engine)
    started = time.perf_counter()
    import_startup_sources(engine, [])
    matcher = build_matcher(engine)
    build_seconds = time.perf_counter() - started
    async with FakeTelegramServer() as server:
        application = build_application(
            token=DEFAULT_TOKEN,
            base_url=server.base_url,
            base_file_url=server.base_file_url,
            deps=TelegramDeps(
                build_dialogue(matcher, SqlDialogueStore(engine)), UserKeyHasher("bench")
            ),
            connect_timeout=10,
            read_timeout=30,
            overall_per_second=overall_per_second,
        )
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            injected: dict[int, list[float]] = {}
            begin = time.perf_counter()
            for round_number in range(questions):
                for user in range(users):
                    chat = 10_000 + user
                    server.send_text(chat, QUESTIONS[(user + round_number) % len(QUESTIONS)])
                    injected.setdefault(chat, []).append(time.monotonic())
                await asyncio.sleep(0)
            total = users * questions
            while sum(len(server.messages_to(chat)) for chat in injected) < total:
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - begin
            latencies = [
                (reply.at - sent_at) * 1000
                for chat, times in injected.items()
                for sent_at, reply in zip(times, server.messages_to(chat), strict=False)
            ]
            await application.updater.stop()
            await application.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"users {users}, questions each {questions}, updates {total}, replies {len(latencies)}, "
        f"send limit {overall_per_second:g}/s"
    )
    print(f"throughput: {total / elapsed:.1f} updates/s end to end ({elapsed:.2f} s)")
    print(
        f"reply latency: p50 {percentile(latencies, 0.5):.0f} ms, "
        f"p99 {percentile(latencies, 0.99):.0f} ms (inject → reply recorded, under full load)"
    )
    print(
        f"index build: {build_seconds:.2f} s; peak RSS (bot + fake server + loader): {peak_mb:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument(
        "--overall-per-second",
        type=float,
        default=30,
        help="Telegram's global send limit the bot keeps to (raise it to measure the bot itself)",
    )
    args = parser.parse_args()
    asyncio.run(run(args.users, args.questions, args.overall_per_second))


if __name__ == "__main__":
    main()
