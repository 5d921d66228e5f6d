"""The crash test: a real `policybot serve` killed with SIGKILL a few milliseconds after each of
20 确认提交 (four at a time, with four other workers' step answers in flight), restarted, and
every request re-sent — 0 duplicate cases, 0 missing, 0 misplaced answers, every re-sent submit
answered with its case's number. On SQLite, and on PostgreSQL when POLICYBOT_TEST_DATABASE_URL is
set. Four submits per kill keep it to five restarts (each costs a server start-up), so the test
stays well under a minute on a busy machine; scripts/crash_submit.py runs one per kill."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.crash_experiment import run_crash_experiment

WORKERS = 20
PER_KILL = 4


async def test_no_duplicate_case_and_no_misplaced_answer_after_kills(
    tmp_path: Path, database_url: str, record_property: pytest.RecordProperty
) -> None:
    figures = await run_crash_experiment(tmp_path, database_url, workers=WORKERS, per_kill=PER_KILL)
    print("\n" + "\n".join(figures.lines()))
    for name in ("kills", "duplicate_cases", "missing_cases", "misplaced_answers", "wrong_numbers"):
        record_property(name, getattr(figures, name))
    assert figures.kills == WORKERS // PER_KILL and figures.cases == WORKERS
    # Both windows were hit, or the test could not have failed: kills after a submit had
    # committed (where a second case used to appear) and before.
    assert figures.submits_committed_before_kill > 0 and figures.submits_not_committed > 0
    assert figures.duplicate_cases == 0 and figures.missing_cases == 0
    assert figures.misplaced_answers == 0, figures.misplaced
    assert figures.wrong_numbers == 0
