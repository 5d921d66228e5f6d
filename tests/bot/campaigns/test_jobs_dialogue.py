"""The /jobs dialogue without a platform: the topic button, typed districts, declining, leaving."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.engine import create_engine_for, init_db
from bot.storage.job_board import SqlJobBoard
from bot.storage.job_models import JobPreferenceRecord
from handlers.dialogue import Dialogue
from handlers.flows import build_dialogue
from handlers.jobs import JobsFlow
from handlers.messages import IncomingMessage
from knowledge.jobs import load_job_tables
from knowledge.match import Matcher

USER = "u1"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'd.db'}")
    init_db(engine)
    return engine


@pytest.fixture
def dialogue(plan_matcher: Matcher, engine: Engine) -> Dialogue:
    tables = load_job_tables()
    jobs = JobsFlow(
        SqlJobBoard(engine, tables),
        tables,
        to_simplified=plan_matcher.converter.to_simplified,
        push_channels=frozenset({"telegram"}),
        digest_hour=10,
        digest_limit=5,
    )
    return build_dialogue(plan_matcher, SqlDialogueStore(engine), jobs=jobs)


async def say(dialogue: Dialogue, text: str, *, pressed: bool = False) -> str:
    make = IncomingMessage.pressed if pressed else IncomingMessage.typed
    turn = await dialogue.handle(make(USER, "web", text))
    return "\n".join(reply.text for reply in turn.replies)


async def test_the_jobs_topic_offers_the_postings(dialogue: Dialogue) -> None:
    turn = await dialogue.handle(IncomingMessage.pressed(USER, "web", "topic:jobs"))
    assert turn.replies[0].choices[0].payload == "job:start"


async def test_typed_districts_and_trades_then_saved_without_push_on_the_web(
    dialogue: Dialogue, engine: Engine
) -> None:
    assert "隐私说明" in await say(dialogue, "我想找工作")
    await say(dialogue, "同意")
    assert "已选：西青区、津南区" in await say(dialogue, "西青 津南")
    await say(dialogue, "下一步")
    assert "已选：保洁" in await say(dialogue, "保洁员")
    await say(dialogue, "好了")
    saved = await say(dialogue, "不限")
    assert "工资：不限" in saved and "这里没法主动给你发消息" in saved
    with Session(engine) as session:
        (record,) = session.exec(select(JobPreferenceRecord)).all()
    assert record.address is None and record.districts == ["西青区", "津南区"]


async def test_declining_or_leaving_keeps_nothing(dialogue: Dialogue, engine: Engine) -> None:
    await say(dialogue, "/jobs")
    assert "什么都没保存" in await say(dialogue, "不同意")
    await say(dialogue, "/jobs")
    await say(dialogue, "同意")
    assert "已退出岗位设置" in await say(dialogue, "取消")
    with Session(engine) as session:
        assert session.exec(select(JobPreferenceRecord)).all() == []
