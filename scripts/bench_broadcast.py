"""Benchmark a campaign broadcast (a command, not a test).

The real broadcaster (python-telegram-bot's Bot over loopback HTTP, SQLite deliveries) sends one
message to N subscribers through the fake Bot API server from tests/ with Telegram's limits
enforced (30 messages/s overall, 1/s per chat: more answers 429). Optionally the run is stopped
after some messages and started again, as an operator's Ctrl-C and rerun would. Prints messages
per second, duplicates, lost messages and the 429s the server had to send.

Usage: .venv/bin/python scripts/bench_broadcast.py [--subscribers 3000] [--stop-after 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlmodel import Session  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.app import prepare_engine  # noqa: E402
from bot.campaigns.broadcasts import Broadcaster, audience  # noqa: E402
from bot.campaigns.pacing import SendLimits  # noqa: E402
from bot.storage.engine import run_transaction  # noqa: E402
from bot.storage.repositories import broadcasts, campaigns  # noqa: E402
from scripts.benchmark_workload import bench_settings  # noqa: E402
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer  # noqa: E402

FIRST_CHAT = 100_000
NEWS = "春风行动招聘会：3月1日上午9点，西青区人力资源市场，200家企业招工。带身份证。"


async def run(subscribers: int, stop_after: int, limits: SendLimits) -> None:
    engine = prepare_engine(bench_settings())

    def subscribed(session: Session) -> int | None:
        campaign = campaigns.create_campaign(
            "chunfeng2027",
            name="春风行动",
            starts_on=date(2027, 2, 1),
            ends_on=date(2027, 3, 31),
            topics=["employment"],
            info="",
            session=session,
        )
        for number in range(subscribers):
            chat = FIRST_CHAT + number
            broadcasts.subscribe(
                f"user{chat}", "telegram", address=str(chat), topics=[], session=session
            )
        queued = broadcasts.queue_broadcast(
            campaign, NEWS, not_before=None, audience=audience(), session=session
        )
        return queued.broadcast.id

    broadcast_id = run_transaction(engine, subscribed)
    assert broadcast_id is not None
    async with (
        FakeTelegramServer(enforce_limits=True) as server,
        Bot(
            DEFAULT_TOKEN,
            base_url=server.base_url,
            request=HTTPXRequest(connection_pool_size=limits.max_in_flight * 2),
        ) as bot,
    ):
        began = time.perf_counter()
        runs = 1
        if stop_after:
            first = asyncio.create_task(Broadcaster(engine, bot).run(broadcast_id))
            await server.wait_for_call("sendMessage", count=stop_after, timeout=3600)
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
            runs = 2
        report = await Broadcaster(engine, bot, limits=limits, show_progress=True).run(broadcast_id)
        elapsed = time.perf_counter() - began
        calls = server.calls("sendMessage")
        counts = Counter(call.chat_id for call in calls)
    duplicates = sum(count - 1 for count in counts.values() if count > 1)
    lost = sum(1 for number in range(subscribers) if counts[FIRST_CHAT + number] == 0)
    print(
        f"subscribers {subscribers}, runs {runs}"
        + (f" (stopped after {stop_after} messages, then run again)" if stop_after else "")
        + f", pacing {limits.messages_per_second:g}/s overall, {limits.per_chat_seconds:g} s per chat"
    )
    print(
        f"delivered: {len(calls)} messages in {elapsed:.1f} s = {len(calls) / elapsed:.1f} messages/s"
    )
    print(f"duplicates: {duplicates}, lost: {lost}, still pending: {report.still_pending}")
    print(f"429s from the server: {len(server.rate_limited)}, other failures: "
          f"{len(server.failed) - len(server.rate_limited)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=3000)
    parser.add_argument(
        "--stop-after", type=int, default=0, help="stop the first run after this many messages"
    )
    parser.add_argument(
        "--messages-per-second", type=float, default=SendLimits().messages_per_second
    )
    args = parser.parse_args()
    limits = SendLimits(messages_per_second=args.messages_per_second)
    asyncio.run(run(args.subscribers, args.stop_after, limits))


if __name__ == "__main__":
    main()
