"""A campaign broadcast sent by `policybot broadcast` processes at once (as when two operators, or
two hosts' timers, start the same one): a broadcast is queued to subscribers in the database, the
senders are started against the fake Bot API, one may be SIGKILLed midway, and the command is run
once more afterwards, as its own message tells an operator to ("稍后再运行同一条命令，会接着发").

Shared by tests/bot/test_scaleout_processes.py and scripts/bench_scaleout.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import Session

from bot.campaigns.broadcasts import audience
from bot.storage.engine import create_engine_for, run_transaction
from bot.storage.repositories import broadcasts, campaigns
from tests.bot.serve_process import REPO, ServeProcess
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer

CAMPAIGN = "chunfeng2027"
NEWS = "春风行动招聘会：3月1日上午9点，西青区人力资源市场，200家企业招工。带身份证。"


def queue_broadcast(database_url: str, first_chat: int, subscribers: int) -> None:
    """A campaign, `subscribers` Telegram subscribers from `first_chat` on, and NEWS queued."""
    engine = create_engine_for(database_url)

    def queued(session: Session) -> None:
        campaign = campaigns.create_campaign(
            CAMPAIGN,
            name="春风行动",
            starts_on=date(2027, 2, 1),
            ends_on=date(2027, 3, 31),
            topics=["employment"],
            info="",
            session=session,
        )
        for chat in range(first_chat, first_chat + subscribers):
            broadcasts.subscribe(
                f"user{chat}", "telegram", address=str(chat), topics=[], session=session
            )
        broadcasts.queue_broadcast(
            campaign, NEWS, not_before=None, audience=audience(), session=session
        )

    try:
        run_transaction(engine, queued)
    finally:
        engine.dispose()


@dataclass
class BroadcastSenders:
    """`policybot broadcast --campaign … --message …` processes on one database."""

    workdir: Path
    database_url: str
    server: FakeTelegramServer
    settings: dict[str, str]
    running: list[asyncio.subprocess.Process] = field(default_factory=list)

    def _command(self) -> list[str]:
        message = self.workdir / "news.txt"
        message.write_text(NEWS, encoding="utf-8")
        return [sys.executable, "-m", "bot.cli", "broadcast", "--campaign", CAMPAIGN,
                "--message", str(message)]  # fmt: skip

    async def start(self, count: int) -> None:
        environment = ServeProcess(
            self.workdir,
            self.database_url,
            {
                "POLICYBOT_TELEGRAM__TOKEN": DEFAULT_TOKEN,
                "POLICYBOT_TELEGRAM__BASE_URL": self.server.base_url,
                "POLICYBOT_LOGGING__LEVEL": "WARNING",
                **self.settings,
            },
        ).environment()
        for _ in range(count):
            self.running.append(
                await asyncio.create_subprocess_exec(
                    *self._command(), cwd=REPO, env=environment,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip

    async def wait(self) -> None:
        await asyncio.gather(*(sender.wait() for sender in self.running))
        self.running = []

    async def stop(self) -> None:
        """Kill whatever still runs (a test that failed midway)."""
        for sender in self.running:
            if sender.returncode is None:
                sender.kill()
        await self.wait()

    async def kill_one_after(self, first_chat: int, subscribers: int, sends: int) -> bool:
        """SIGKILL the first sender once `sends` of the news reached subscribers; False when it
        had finished before (a fast machine)."""
        victim = self.running[0]
        while victim.returncode is None and len(self.delivered(first_chat, subscribers)) < sends:
            await asyncio.sleep(0.02)
        if victim.returncode is not None:
            return False
        victim.kill()
        return True

    def delivered(self, first_chat: int, subscribers: int) -> Counter[int]:
        """Deliveries of the news per subscriber chat, counted at the fake server."""
        chats = range(first_chat, first_chat + subscribers)
        return Counter(
            call.chat_id
            for call in self.server.calls("sendMessage")
            if isinstance(call.chat_id, int) and call.chat_id in chats
        )
