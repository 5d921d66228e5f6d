"""Crash the server during legal-aid submits and count what went wrong (a command, not a test).

A real `policybot serve` (SQLite in a temp dir, or a fresh schema of the PostgreSQL database
given) takes referrals from N workers through its web chat. A few milliseconds after each
worker's 确认提交 — with another worker's answer to some step in flight too — the server is
killed with SIGKILL, started again, and both requests are re-sent. Prints the kills, how many
requests had already committed when the kill came, and the duplicate cases, missing cases,
misplaced answers and re-sent submits answered with another number (all should be 0).

Usage: .venv/bin/python scripts/crash_submit.py [--workers 20] [--per-kill 1] [--seed 12]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from bot.storage.engine import create_engine_for  # noqa: E402
from tests.bot.crash_experiment import Figures, run_crash_experiment  # noqa: E402
from tests.conftest import url_with_search_path  # noqa: E402


async def run(workers: int, per_kill: int, seed: int, database_url: str | None) -> Figures:
    workdir = Path(tempfile.mkdtemp(prefix="crash-submit-"))
    if database_url is None:
        return await run_crash_experiment(
            workdir,
            f"sqlite:///{workdir / 'crash.db'}",
            workers=workers,
            per_kill=per_kill,
            seed=seed,
        )
    schema = f"crash_{uuid.uuid4().hex}"
    admin = create_engine_for(database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        return await run_crash_experiment(
            workdir,
            url_with_search_path(database_url, schema),
            workers=workers,
            per_kill=per_kill,
            seed=seed,
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--per-kill", type=int, default=1, help="submits in flight per kill")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    figures = asyncio.run(run(args.workers, args.per_kill, args.seed, args.database_url))
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"policybot serve on {backend}, web chat, kill -9 after 确认提交")
    for line in figures.lines():
        print(f"  {line}")
    failures = (
        figures.duplicate_cases
        + figures.missing_cases
        + figures.misplaced_answers
        + figures.wrong_numbers
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
