"""Benchmark scale-out (a command, not a test): the web chat on 1, 2 and 4 `policybot serve`
processes, on SQLite and on PostgreSQL, and a broadcast by two sender processes.

Web chat: real `policybot serve` processes (tests/bot/serve_process.py, env config only) on one
fresh database (upgraded once with `policybot db upgrade`), the limits lifted; this process is the
load generator, spreading the same workload as scripts/bench_web_chat.py over the processes'
ports round-robin, as a proxy would. Broadcast: two `policybot broadcast` processes for one
campaign against the fake Bot API (tests/fake_telegram.py) with Telegram's limits enforced;
Telegram allows 30 messages/s in all, so the total must stay at or under that.

PostgreSQL needs --postgres URL (or POLICYBOT_TEST_DATABASE_URL); a database is created per run
and dropped after. `[redis] url` is passed with --redis URL (or POLICYBOT_TEST_REDIS_URL) where
this checkout's settings have it.

Usage: .venv/bin/python scripts/bench_scaleout.py [--requests 3000] [--concurrency 32]
       [--processes 1 2 4] [--subscribers 600]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.benchmark_workload import LoadFigures, chat_load  # noqa: E402
from tests.bot.scaleout_broadcast import BroadcastSenders, queue_broadcast  # noqa: E402
from tests.bot.scaleout_cluster import (  # noqa: E402
    Cluster,
    fresh_postgres_database,
    scaleout_settings,
    upgrade_database,
)
from tests.fake_telegram import FakeTelegramServer  # noqa: E402

UNLIMITED = str(10**9)
FIRST_CHAT = 100_000
TELEGRAM_LIMIT = 30


@contextlib.contextmanager
def database(backend: str, postgres: str | None, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
    else:
        assert postgres is not None
        with fresh_postgres_database(postgres, "bench_scaleout") as url:
            yield url


def web_settings(redis: str | None) -> dict[str, str]:
    return {
        "POLICYBOT_WEB_CHAT__REQUESTS_PER_MINUTE_PER_SESSION": UNLIMITED,
        "POLICYBOT_WEB_CHAT__REQUESTS_PER_MINUTE_PER_IP": UNLIMITED,
        "POLICYBOT_LOGGING__LEVEL": "WARNING",
        **scaleout_settings(redis, 3.0).environment,
    }


async def web_chat(
    backend: str, processes: int, args: argparse.Namespace, workdir: Path
) -> LoadFigures:
    with database(backend, args.postgres, workdir) as url:
        upgrade_database(workdir, url)
        cluster = Cluster.of(processes, workdir, url, web_settings(args.redis))
        try:
            for failure in await cluster.start():
                print(f"  ({failure})", file=sys.stderr)
            return await chat_load(
                [p.base_url for p in cluster.processes], args.requests, args.concurrency
            )
        finally:
            cluster.stop()


async def broadcast_rate(backend: str, args: argparse.Namespace, workdir: Path) -> str:
    """Two `policybot broadcast` processes on one queued broadcast; the rate at the fake."""
    with database(backend, args.postgres, workdir) as url:
        upgrade_database(workdir, url)
        queue_broadcast(url, FIRST_CHAT, args.subscribers)
        async with FakeTelegramServer(enforce_limits=True) as server:
            senders = BroadcastSenders(
                workdir, url, server, scaleout_settings(args.redis, 3.0).environment
            )
            await senders.start(2)
            await senders.wait()
            counts = senders.delivered(FIRST_CHAT, args.subscribers)
            calls = [c for c in server.calls("sendMessage") if c.chat_id in counts]
            limited = len(server.rate_limited)
    duplicates = sum(count - 1 for count in counts.values())
    lost = args.subscribers - len(counts)
    # From the first send to the last: the senders' start-up is not sending time.
    span = calls[-1].at - calls[0].at if len(calls) > 1 else 0.0
    rate = (len(calls) - 1) / span if span > 0 else 0.0
    peak = max(Counter(int(call.at) for call in calls).values(), default=0)
    # The fake answers 429 to whatever goes over 30/s, so what was delivered never shows more:
    # any 429 means the senders together tried to go faster than Telegram allows.
    tried = (len(calls) + limited - 1) / span if span > 0 else 0.0
    verdict = (
        "ok" if limited == 0 and rate <= TELEGRAM_LIMIT else f"OVER 30/s (tried {tried:.1f}/s)"
    )
    return (
        f"{backend:10} 2 senders  {len(calls):5} sent in {span:5.1f} s = {rate:5.1f}/s "
        f"(peak second {peak}) {verdict}; duplicates {duplicates}, lost {lost}, 429s {limited}"
    )


async def run(args: argparse.Namespace) -> None:
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    rows = []
    for backend in backends:
        for processes in args.processes:
            with tempfile.TemporaryDirectory() as directory:
                figures = await web_chat(backend, processes, args, Path(directory))
            rows.append((backend, processes, figures))
            print(
                f"  {backend} × {processes}: {figures.throughput:.0f} requests/s", file=sys.stderr
            )
    missing = scaleout_settings(args.redis, 3.0).missing
    print(
        f"\n/api/chat, {args.requests} requests, {args.concurrency} clients, round-robin over "
        f"the processes' ports; os.cpu_count() = {os.cpu_count()}"
        + (f"; this checkout lacks {', '.join(missing)}" if missing else "")
    )
    print(f"{'database':10} {'processes':>9} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} errors")
    for backend, processes, figures in rows:
        print(
            f"{backend:10} {processes:9d} {figures.throughput:11.0f} {figures.p50:8.1f} "
            f"{figures.p99:8.1f} {figures.errors}"
        )
    print(f"\nbroadcast to {args.subscribers} Telegram subscribers, fake Bot API enforcing 30/s")
    for backend in backends:
        with tempfile.TemporaryDirectory() as directory:
            print(await broadcast_rate(backend, args, Path(directory)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--subscribers", type=int, default=600)
    parser.add_argument("--postgres", default=os.environ.get("POLICYBOT_TEST_DATABASE_URL"))
    parser.add_argument("--redis", default=os.environ.get("POLICYBOT_TEST_REDIS_URL"))
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
