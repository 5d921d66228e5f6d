"""Several real `policybot serve` processes on one fresh PostgreSQL database (and one Redis): the
database created for the run and dropped after, upgraded once as an operator does, the processes
started together and waited on at /healthz, one of them killed with SIGKILL on demand.

Settings that only exist once the scale-out work has landed (`[redis] url`,
`[senders] lease_seconds`) are passed only when this checkout's Settings has them, so the harness
runs against older code too — and shows what fails there.

Shared by tests/bot/test_scaleout_processes.py and scripts/bench_scaleout.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.settings import Settings
from bot.storage.engine import create_engine_for
from tests.bot.serve_process import REPO, ServeProcess

REDIS_SETTING = "POLICYBOT_REDIS__URL"
REDIS_PREFIX_SETTING = "POLICYBOT_REDIS__KEY_PREFIX"
LEASE_SETTING = "POLICYBOT_SENDERS__LEASE_SECONDS"
# Three processes importing the library at once on a loaded two-core machine start slowly.
START_TIMEOUT_SECONDS = 240.0


@dataclass(frozen=True)
class OptionalSettings:
    """What this checkout can be given of the scale-out settings, and what it lacks."""

    environment: dict[str, str]
    missing: tuple[str, ...]


def scaleout_settings(redis_url: str | None, lease_seconds: float) -> OptionalSettings:
    """`[redis] url` and `[senders] lease_seconds` as environment variables, where they exist.

    The run's processes get a key prefix of their own: they share Telegram's pace and limits with
    each other, never with another test run on the same Redis (two runs at once would each send at
    half the pace and wait twice as long for the staff group's one message per three seconds)."""
    fields = Settings.model_fields
    environment: dict[str, str] = {}
    missing: list[str] = []
    if redis_url is not None:
        if "redis" in fields:
            environment[REDIS_SETTING] = redis_url
            environment[REDIS_PREFIX_SETTING] = f"test-scaleout-{uuid.uuid4().hex[:12]}"
        else:
            missing.append("[redis] url")
    senders = fields.get("senders")
    section: Any = senders.annotation if senders is not None else None
    if section is not None and "lease_seconds" in getattr(section, "model_fields", {}):
        environment[LEASE_SETTING] = str(lease_seconds)
    else:
        missing.append("[senders] lease_seconds")
    return OptionalSettings(environment, tuple(missing))


@contextlib.contextmanager
def fresh_postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new database `<prefix>_<random>` on the server of `server_url`; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine_for(server_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                # A killed process's connections may linger until the server notices.
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def upgrade_database(workdir: Path, database_url: str) -> None:
    """`policybot db upgrade`, once, before any process starts (PostgreSQL is never upgraded by
    serve itself)."""
    runner = ServeProcess(workdir, database_url)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=REPO,
        env=runner.environment(),
        check=True,
        capture_output=True,
    )


@dataclass
class Cluster:
    """N `policybot serve` processes with the same settings, each in its own directory."""

    processes: list[ServeProcess]
    killed: list[ServeProcess] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        count: int,
        workdir: Path,
        database_url: str,
        settings: dict[str, str],
        *,
        webhook_path: str | None = None,
    ) -> Cluster:
        processes = []
        for number in range(count):
            directory = workdir / f"serve-{number}"
            directory.mkdir(parents=True, exist_ok=True)
            process = ServeProcess(
                directory,
                database_url,
                dict(settings),
                upgrade=False,
                start_timeout=START_TIMEOUT_SECONDS,
            )
            if webhook_path is not None:
                process.arguments = ("--webhook", f"{process.base_url}{webhook_path}")
            processes.append(process)
        return cls(processes)

    async def start(self) -> list[str]:
        """Start every process at once, as an operator's service manager does (each waits for its
        /healthz in a thread, so an event loop serving a fake platform to them keeps answering).
        A process that exits is started once more, alone; returns why each first start failed."""
        outcomes = await asyncio.gather(
            *(asyncio.to_thread(p.start) for p in self.processes), return_exceptions=True
        )
        failures = []
        for process, outcome in zip(self.processes, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                errors = [line for line in str(outcome).splitlines() if "Error" in line]
                why = errors[-1].strip() if errors else type(outcome).__name__
                failures.append(f"{process.base_url} failed to start beside the others: {why}")
                process.kill()  # one that never answered /healthz
                await asyncio.to_thread(process.start)
        return failures

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def live(self) -> list[ServeProcess]:
        return [p for p in self.processes if p not in self.killed and p.running]

    def pick(self, rng: random.Random) -> ServeProcess:
        return rng.choice(self.live())

    def kill(self, process: ServeProcess) -> None:
        self.killed.append(process)
        process.kill()

    def logs(self) -> str:
        return "\n".join(f"--- {p.base_url}\n{p.log()[-3000:]}" for p in self.processes)


async def health(http: httpx.AsyncClient, process: ServeProcess) -> tuple[int, dict[str, Any]]:
    """/healthz's status and JSON body (an empty dict when it is not JSON)."""
    response = await http.get(f"{process.base_url}/healthz", timeout=30)
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}
