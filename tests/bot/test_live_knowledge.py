"""The matcher every process answers with: rebuilt in the background when the additions'
revision in the database moves, looked at no more often than the setting says."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.live_knowledge import LiveKnowledge
from bot.storage.engine import run_transaction
from bot.storage.repositories.knowledge_additions import bump_revision
from knowledge.match import Matcher
from tests.bot.server_harness import engine_in


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return engine_in(tmp_path)


def live(engine: Engine, matcher: Matcher, builds: list[int], clock: Clock) -> LiveKnowledge:
    def build() -> tuple[int, Matcher]:
        builds.append(1)
        return run_transaction(engine, lambda s: bump_revision(session=s) - 1), matcher

    return LiveKnowledge(engine, matcher, 0, build=build, check_seconds=5, clock=clock)


async def settle(knowledge: LiveKnowledge) -> None:
    for _ in range(200):
        await asyncio.sleep(0.01)
        if knowledge.revision > 0:
            return


async def test_a_moved_revision_rebuilds_once_it_is_looked_at(
    engine: Engine, plan_matcher: Matcher
) -> None:
    builds: list[int] = []
    clock = Clock()
    knowledge = live(engine, plan_matcher, builds, clock)
    run_transaction(engine, lambda s: bump_revision(session=s))
    assert await knowledge.latest() is plan_matcher and builds == []  # not yet time to look
    clock.now = 5.0
    await knowledge.latest()  # looks, starts the rebuild, answers with what it has
    await settle(knowledge)
    assert builds == [1] and knowledge.revision == 1


async def test_an_unchanged_revision_builds_nothing(engine: Engine, plan_matcher: Matcher) -> None:
    builds: list[int] = []
    clock = Clock()
    knowledge = live(engine, plan_matcher, builds, clock)
    for step in range(1, 4):
        clock.now = step * 10.0
        await knowledge.latest()
    await asyncio.sleep(0.05)
    assert builds == [] and knowledge.revision == 0


async def test_rebuild_now_swaps_before_returning(engine: Engine, plan_matcher: Matcher) -> None:
    builds: list[int] = []
    knowledge = live(engine, plan_matcher, builds, Clock())
    run_transaction(engine, lambda s: bump_revision(session=s))
    await knowledge.rebuild_now()
    assert builds == [1] and knowledge.revision == 1


async def test_a_failed_rebuild_keeps_the_old_matcher(
    engine: Engine, plan_matcher: Matcher, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> tuple[int, Matcher]:
        raise RuntimeError("database went away")

    clock = Clock()
    knowledge = LiveKnowledge(engine, plan_matcher, 0, build=broken, check_seconds=1, clock=clock)
    run_transaction(engine, lambda s: bump_revision(session=s))
    clock.now = 2.0
    with caplog.at_level(logging.ERROR):
        await knowledge.latest()
        await asyncio.sleep(0.1)
    assert knowledge.matcher is plan_matcher and knowledge.revision == 0
    assert "knowledge_rebuild_failed" in caplog.text
