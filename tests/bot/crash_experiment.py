"""The legal-aid crash experiment: workers file referrals through a real `policybot serve`'s web
chat; a few milliseconds after their 确认提交 (one or a few at a time) — while as many other
workers' answers to some step are in flight too — the server is killed with SIGKILL, started again
on the same database, and every request in flight is sent again, as a worker re-taps after an
error. Afterwards every worker
must have exactly one case holding exactly what they answered, and the re-sent 确认提交 must have
answered with that case's number.

Shared by the test (tests/bot/test_crash_submit.py) and scripts/crash_submit.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, select

from bot.app import USER_KEY_SECRET_NAME
from bot.storage.engine import create_engine_for, run_transaction
from bot.storage.models import ConversationRecord, LegalAidCase
from bot.storage.repositories.app_secret import get_or_create_secret
from bot.user_keys import UserKeyHasher
from handlers import texts
from tests.bot.serve_process import ServeProcess

CASE_NUMBER = re.compile(r"LA-\d{8}-\d{4}")
# The kill comes 1 ms to this many times an answered step's median time after the requests are
# sent (at least KILL_WITHIN_MS), times the submits in flight: a submit does a few times a step's
# work and those in flight share the server, so the kills land before, during and after commits
# however busy the machine is. Kills are spread evenly over the range.
KILL_AFTER_MS = 1.0
KILL_WITHIN_STEPS = 6
KILL_WITHIN_MS = 40.0
UNLIMITED = str(10**9)
# The referral as a worker answers it: (what is sent, how) — a typed text or a chip's label.
TEXT, CHIP = "text", "chip"
SUBMIT_STEP = 7
# The steps a crash may catch in flight besides the submit (consent … description).
CRASHABLE_STEPS = (1, 2, 3, 4, 5, 6)


@dataclass
class Worker:
    """One worker's session, their answers, and where they are in the referral."""

    number: int
    category: str
    district: str
    phone: str
    employer: str
    description: str
    step: int = 0  # the next step to send
    reply: dict[str, Any] = field(default_factory=dict)  # the last reply, for its chips

    @property
    def session(self) -> str:
        return f"crash-worker-session-{self.number:04d}"

    def request(self, step: int) -> dict[str, Any]:
        """The body of `step`: the same each time it is (re-)sent."""
        kind, value = (
            (TEXT, "法律援助"),
            (CHIP, "同意"),
            (CHIP, texts.CATEGORY_LABELS[self.category]),
            (CHIP, self.district),
            (TEXT, self.phone),
            (TEXT, self.employer),
            (TEXT, self.description),
            (CHIP, texts.SUBMIT_LABEL),
        )[step]
        if kind == TEXT:
            return {"session": self.session, "text": value}
        chips = {chip["label"]: chip["choice"] for chip in self.reply.get("choices", [])}
        assert value in chips, f"worker {self.number} step {step}: no chip {value!r} in {chips}"
        return {"session": self.session, "choice": chips[value]}


def make_workers(count: int, rng: random.Random, first: int = 0) -> list[Worker]:
    return [
        Worker(
            number=n,
            category=rng.choice(sorted(texts.CATEGORY_LABELS)),
            district=rng.choice(texts.DISTRICTS),
            phone=f"139{n:08d}",
            employer=f"第{n}号某某劳务公司",
            description=f"包工头拖欠我和工友{n + 2}个月工资，一共{(n + 1) * 3000}元，一直不给",
        )
        for n in range(first, first + count)
    ]


@dataclass
class Figures:
    workers: int
    kills: int = 0
    submits_committed_before_kill: int = 0
    submits_not_committed: int = 0
    steps_in_flight: int = 0
    steps_committed_before_kill: int = 0
    cases: int = 0
    duplicate_cases: int = 0
    missing_cases: int = 0
    misplaced_answers: int = 0
    wrong_numbers: int = 0
    kill_delays_ms: list[float] = field(default_factory=list)
    step_ms: list[float] = field(default_factory=list)  # answered steps, no kill
    seconds: float = 0.0
    misplaced: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        delays = sorted(self.kill_delays_ms)
        return [
            f"workers {self.workers}, kills {self.kills} "
            f"(SIGKILL {delays[0]:.0f}–{delays[-1]:.0f} ms after the requests; an answered step "
            f"took {statistics.median(self.step_ms):.0f} ms, median)"
            if delays and self.step_ms
            else f"workers {self.workers}, kills {self.kills}",
            f"submits caught: {self.submits_committed_before_kill} already committed, "
            f"{self.submits_not_committed} not yet",
            f"step answers caught in flight: {self.steps_in_flight} "
            f"({self.steps_committed_before_kill} already committed)",
            f"cases {self.cases}: duplicates {self.duplicate_cases}, missing {self.missing_cases}, "
            f"misplaced answers {self.misplaced_answers}, re-sent submits answered with another "
            f"number {self.wrong_numbers}",
            f"{self.seconds:.1f} s",
        ]


class CrashExperiment:
    def __init__(
        self, serve: ServeProcess, workers: list[Worker], rng: random.Random, *, per_kill: int
    ) -> None:
        self._serve = serve
        self._workers = workers
        self._rng = rng
        self._per_kill = per_kill
        self._engine = create_engine_for(serve.database_url)
        self.figures = Figures(len(workers))

    async def _send(self, http: httpx.AsyncClient, worker: Worker, body: dict[str, Any]) -> None:
        started = time.perf_counter()
        response = await http.post("/api/chat", json=body, timeout=30)
        self.figures.step_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (worker.number, body, response.text)
        worker.reply = response.json()["replies"][-1]

    async def _advance(self, http: httpx.AsyncClient, worker: Worker, until: int) -> None:
        """Send the worker's steps up to (not including) `until`, no crash."""
        while worker.step < until:
            await self._send(http, worker, worker.request(worker.step))
            worker.step += 1

    async def _in_flight(
        self, http: httpx.AsyncClient, worker: Worker, body: dict[str, Any]
    ) -> None:
        """A request the kill may catch anywhere: before, during or after its commit."""
        with contextlib.suppress(httpx.HTTPError, AssertionError):  # the server died under it
            await self._send(http, worker, body)

    def _cases_by_phone(self) -> dict[str, list[LegalAidCase]]:
        with Session(self._engine) as session:
            rows = list(session.exec(select(LegalAidCase)))
        found: dict[str, list[LegalAidCase]] = {}
        for row in rows:
            found.setdefault(row.phone or "", []).append(row)
        return found

    def _draft_step(self, worker: Worker) -> str | None:
        secret = run_transaction(
            self._engine, lambda s: get_or_create_secret(USER_KEY_SECRET_NAME, session=s)
        )
        key = UserKeyHasher(secret).key_for("web", worker.session)
        with Session(self._engine) as session:
            record = session.get(ConversationRecord, key)
            draft = record.state.get("legal_aid") if record else None
        return draft.get("step") if isinstance(draft, dict) else None

    def _kill_delay(self, index: int) -> float:
        """Round `index`'s share of the kill range, a random point within it."""
        step = statistics.median(self.figures.step_ms) if self.figures.step_ms else 10.0
        within = max(KILL_WITHIN_MS, KILL_WITHIN_STEPS * step) * self._per_kill
        rounds = -(-len(self._workers) // self._per_kill)
        share = (index + self._rng.random()) / rounds
        return KILL_AFTER_MS + (within - KILL_AFTER_MS) * share

    def _group(self, index: int) -> list[Worker]:
        size = self._per_kill
        return self._workers[index * size : (index + 1) * size]

    async def _round(self, index: int) -> None:
        """A group submits while the next group answers their crash steps; kill; restart; all
        re-send; the next group then reaches its submits, the one after its crash steps."""
        submitters, following = self._group(index), self._group(index + 1)
        delay = self._kill_delay(index)
        # Re-sent exactly as first sent (the chips of the prompt the worker still sees).
        submits = [worker.request(SUBMIT_STEP) for worker in submitters]
        steps = [worker.request(crash_step(worker)) for worker in following]
        async with httpx.AsyncClient(base_url=self._serve.base_url) as http:
            flights = [
                asyncio.create_task(self._in_flight(http, worker, body))
                for worker, body in (
                    *zip(submitters, submits, strict=True),
                    *zip(following, steps, strict=True),
                )
            ]
            await asyncio.sleep(delay / 1000)
            self._serve.kill()
            await asyncio.gather(*flights)
        self.figures.kills += 1
        self.figures.kill_delays_ms.append(delay)
        cases = self._cases_by_phone()
        for worker in submitters:
            if cases.get(worker.phone):
                self.figures.submits_committed_before_kill += 1
            else:
                self.figures.submits_not_committed += 1
        for worker in following:
            self.figures.steps_in_flight += 1
            stored = self._draft_step(worker)
            # Committed if the draft moved past the step the request answered.
            if stored is not None and _STEP_NAMES.index(stored) >= crash_step(worker):
                self.figures.steps_committed_before_kill += 1
        self._serve.start()
        async with httpx.AsyncClient(base_url=self._serve.base_url) as http:
            for worker, body in zip(submitters, submits, strict=True):
                await self._send(http, worker, body)  # the worker taps 确认提交 again
                worker.step = SUBMIT_STEP + 1
                shown = CASE_NUMBER.findall(worker.reply.get("text", ""))
                stored_numbers = [case.number for case in self._cases_by_phone()[worker.phone]]
                if shown != stored_numbers[:1]:
                    self.figures.wrong_numbers += 1
            for worker, body in zip(following, steps, strict=True):
                await self._send(http, worker, body)  # … and the others theirs
                worker.step = crash_step(worker) + 1
                await self._advance(http, worker, SUBMIT_STEP)
            for worker in self._group(index + 2):
                await self._advance(http, worker, crash_step(worker))

    def _check(self) -> None:
        cases = self._cases_by_phone()
        self.figures.cases = sum(len(rows) for rows in cases.values())
        for worker in self._workers:
            rows = cases.get(worker.phone, [])
            self.figures.duplicate_cases += max(0, len(rows) - 1)
            self.figures.missing_cases += 0 if rows else 1
            for row in rows:
                for name, expected in (
                    ("category", worker.category),
                    ("district", worker.district),
                    ("employer", worker.employer),
                    ("description", worker.description),
                ):
                    if getattr(row, name) != expected:
                        self.figures.misplaced_answers += 1
                        self.figures.misplaced[name] += 1
        # A phone that belongs to no worker is an answer stored in the wrong field.
        strangers = sum(len(rows) for phone, rows in cases.items() if not _is_worker_phone(phone))
        self.figures.misplaced_answers += strangers

    async def run(self) -> Figures:
        started = time.perf_counter()
        self._serve.start()
        try:
            async with httpx.AsyncClient(base_url=self._serve.base_url) as http:
                for worker in self._group(0):
                    await self._advance(http, worker, SUBMIT_STEP)
                for worker in self._group(1):
                    await self._advance(http, worker, crash_step(worker))
            for index in range(-(-len(self._workers) // self._per_kill)):
                await self._round(index)
        finally:
            self._serve.stop()
        self._check()
        self._engine.dispose()
        self.figures.seconds = time.perf_counter() - started
        return self.figures


_STEP_NAMES = ("consent", "category", "district", "phone", "employer", "description", "confirm")


def crash_step(worker: Worker) -> int:
    """The step whose answer a kill catches in flight for this worker (besides its submit)."""
    return CRASHABLE_STEPS[worker.number % len(CRASHABLE_STEPS)]


def _is_worker_phone(phone: str) -> bool:
    return bool(re.fullmatch(r"139\d{8}", phone))


def serve_for_crashes(workdir: Path, database_url: str) -> ServeProcess:
    """`policybot serve` with the web chat's limits lifted (one client sends everything)."""
    return ServeProcess(
        workdir,
        database_url,
        {
            "POLICYBOT_WEB_CHAT__REQUESTS_PER_MINUTE_PER_SESSION": UNLIMITED,
            "POLICYBOT_WEB_CHAT__REQUESTS_PER_MINUTE_PER_IP": UNLIMITED,
            "POLICYBOT_LOGGING__LEVEL": "WARNING",
        },
    )


async def run_crash_experiment(
    workdir: Path,
    database_url: str,
    *,
    workers: int = 20,
    per_kill: int = 1,
    seed: int = 12,
    first_worker: int = 0,
) -> Figures:
    """`workers` submits, `per_kill` of them (and as many step answers) in flight at each kill."""
    rng = random.Random(seed)
    serve = serve_for_crashes(workdir, database_url)
    crew = make_workers(workers, rng, first=first_worker)
    experiment = CrashExperiment(serve, crew, rng, per_kill=per_kill)
    return await experiment.run()
