"""The web-chat side of the scale-out test: sessions asking everyday questions at random
processes (a request refused by a dead process is sent again at a live one, as a browser's retry
would), and one session hammering every process for the per-session limit."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.bot.scaleout_cluster import Cluster

EVERYDAY_QUESTIONS = (
    "老板欠了三个月工资怎么办", "孩子能在天津上公办小学吗", "积分落户要多少分", "公租房怎么申请",
    "工伤保险回老家还能领吗", "去技校学电焊有补贴吗", "春风行动招聘会什么时候", "社保能转回老家吗",
    "返乡创业能贷款吗", "没签劳动合同怎么办", "失业了能在天津登记吗", "加班费怎么算",
)  # fmt: skip
WINDOW_SECONDS = 60.0
MAX_SENDS = 8


def forwarded_for(number: int) -> str:
    """A client address per session (the processes trust 127.0.0.1 as their proxy), so the
    per-IP limit never stands in for the per-session one."""
    return f"10.{number // 62500 % 250}.{number // 250 % 250}.{number % 250 + 1}"


@dataclass
class WebLoad:
    """`sessions` × `messages` questions; statuses counted, resends after a dead process."""

    cluster: Cluster
    http: httpx.AsyncClient
    rng: random.Random
    run_id: str
    statuses: Counter[int] = field(default_factory=Counter)
    resends: int = 0
    unanswered: int = 0  # no live process answered after MAX_SENDS tries

    async def ask(self, session: str, address: str, text: str) -> int | None:
        for _send in range(MAX_SENDS):
            process = self.cluster.pick(self.rng)
            try:
                response = await self.http.post(
                    f"{process.base_url}/api/chat",
                    json={"session": session, "text": text},
                    headers={"X-Forwarded-For": address},
                    timeout=60,
                )
            except httpx.HTTPError:
                self.resends += 1
                continue
            self.statuses[response.status_code] += 1
            return response.status_code
        self.unanswered += 1
        return None

    async def run(self, sessions: int, messages: int, concurrency: int) -> None:
        numbers = iter(range(sessions))

        async def visitor() -> None:
            for number in numbers:
                session = f"scaleout-{self.run_id}-{number:05d}"
                for turn in range(messages):
                    question = EVERYDAY_QUESTIONS[(number + turn) % len(EVERYDAY_QUESTIONS)]
                    await self.ask(session, forwarded_for(number), question)

        await asyncio.gather(*(visitor() for _ in range(concurrency)))


@dataclass(frozen=True)
class Hammer:
    sent: int
    accepted: int
    refused: int
    seconds: float
    minute_boundaries: int  # clock-aligned minute boundaries crossed while hammering

    def allowed(self, limit: int) -> int:
        """What a limit of `limit` per minute may let through in this run: one window, one more
        per further minute it lasted, and one more per clock minute boundary crossed (a fixed
        window aligned to the clock restarts there)."""
        return limit * (1 + int(self.seconds // WINDOW_SECONDS) + self.minute_boundaries)


async def hammer(
    cluster: Cluster, http: httpx.AsyncClient, session: str, requests: int, concurrency: int
) -> Hammer:
    """`requests` from one session (and one address), round-robin over the live processes."""
    processes = cluster.live()
    statuses: Counter[int] = Counter()
    turns = iter(range(requests))

    async def client() -> None:
        for turn in turns:
            process = processes[turn % len(processes)]
            response = await http.post(
                f"{process.base_url}/api/chat",
                json={"session": session, "text": "你好"},
                headers={"X-Forwarded-For": "10.251.0.1"},
                timeout=60,
            )
            statuses[response.status_code] += 1

    began_wall, began = time.time(), time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = time.monotonic() - began
    boundaries = int((began_wall + seconds) // WINDOW_SECONDS) - int(began_wall // WINDOW_SECONDS)
    return Hammer(requests, statuses[200], statuses[429], seconds, boundaries)
