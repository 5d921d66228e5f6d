"""Job postings on Telegram end to end: the real Application polls the fake Bot API server; a
worker sets preferences with buttons, postings are imported, the test moves the clock and the
digest arrives once at the hour — never a non-matching or expired posting, never at night."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.campaigns.job_digests import JobDigests
from bot.campaigns.job_sheet import HEADER, check_sheet
from bot.channels.telegram.application import register_commands
from bot.channels.telegram.context import TelegramDeps
from bot.channels.telegram.outbox import TelegramOutboxTransport
from bot.storage.case_desk import SqlCaseDesk
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.engine import create_engine_for, init_db, run_transaction
from bot.storage.job_board import SqlJobBoard
from bot.storage.job_models import (
    JobDigestRecord,
    JobEventRecord,
    JobPreferenceRecord,
    JobShownRecord,
)
from bot.storage.repositories import job_postings
from bot.user_keys import UserKeyHasher
from handlers.campaigns import CHINA_TIME
from handlers.flows import build_dialogue
from handlers.jobs import JobsFlow
from handlers.legal_aid import LegalAidFlow
from knowledge.jobs import JobTables, load_job_tables
from knowledge.match import Matcher
from tests.bot.campaigns.job_fixtures import CLEANER, WELDER, Clock, row
from tests.bot.channels.telegram.test_channel import application_for, payload_of
from tests.fake_telegram import FakeTelegramServer, SentCall

WORKER = 3001
PUSH_CHANNELS = frozenset({"telegram", "wechat"})


@dataclass
class JobsBot:
    server: FakeTelegramServer
    engine: Engine
    user_keys: UserKeyHasher
    clock: Clock
    digests: JobDigests
    transport: TelegramOutboxTransport
    tables: JobTables

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        self.clock.now = datetime(2027, 3, day, hour, minute, tzinfo=CHINA_TIME)

    async def tick(self) -> int:
        return await self.digests.tick(self.transport)

    def import_rows(self, *rows: list[str]) -> None:
        result = check_sheet([list(HEADER), *rows], self.tables)
        assert not result.problems
        run_transaction(
            self.engine,
            lambda s: job_postings.upsert_postings(result.rows, file_name="t.xlsx", session=s),
        )

    def rows(self, model: type) -> list[object]:
        with Session(self.engine) as session:
            return list(session.exec(select(model)).all())


@pytest.fixture
async def bot(plan_matcher: Matcher, tmp_path: Path) -> AsyncIterator[JobsBot]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'bot.db'}")
    init_db(engine)
    clock = Clock(datetime(2027, 3, 1, 7, 0, tzinfo=CHINA_TIME))
    tables = load_job_tables()
    to_simplified = plan_matcher.converter.to_simplified
    jobs = JobsFlow(
        SqlJobBoard(engine, tables, now=clock),
        tables,
        to_simplified=to_simplified,
        push_channels=PUSH_CHANNELS,
        digest_hour=10,
        digest_limit=5,
    )
    legal_aid = LegalAidFlow(
        SqlCaseDesk(engine, staff_chat=None),
        timeout=timedelta(minutes=30),
        retention_days=365,
        to_simplified=to_simplified,
    )
    dialogue = build_dialogue(
        plan_matcher, SqlDialogueStore(engine), legal_aid=legal_aid, jobs=jobs
    )
    user_keys = UserKeyHasher("test-secret")
    digests = JobDigests(engine, tables, hour=10, limit=5, now=clock)
    async with FakeTelegramServer() as server:
        application = application_for(server, TelegramDeps(dialogue, user_keys))
        async with application:
            await register_commands(application)
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            transport = TelegramOutboxTransport(application.bot)
            yield JobsBot(server, engine, user_keys, clock, digests, transport, tables)
            await application.updater.stop()
            await application.stop()
    engine.dispose()


async def next_message(bot: JobsBot, seen: int) -> SentCall:
    return (await bot.server.wait_for_messages(WORKER, seen + 1))[seen]


async def press(bot: JobsBot, message: SentCall, label: str) -> SentCall:
    seen = len(bot.server.messages_to(WORKER))
    bot.server.press_button(WORKER, message, payload_of(message, label))
    return await next_message(bot, seen)


async def set_preferences(bot: JobsBot) -> SentCall:
    """/jobs → 同意 → 西青区 → 下一步 → types 电焊 → 下一步 → 5000元以上."""
    seen = len(bot.server.messages_to(WORKER))
    bot.server.send_command(WORKER, "/jobs")
    consent = await next_message(bot, seen)
    assert "隐私说明" in (consent.text or "")
    districts = await press(bot, consent, "同意")
    chosen = await press(bot, districts, "西青区")
    assert "已选：西青区" in (chosen.text or "")
    trades = await press(bot, chosen, "下一步")
    seen = len(bot.server.messages_to(WORKER))
    bot.server.send_text(WORKER, "电焊")
    welder = await next_message(bot, seen)
    assert "已选：焊工" in (welder.text or "")
    pay = await press(bot, trades, "下一步")
    seen = len(bot.server.messages_to(WORKER))
    bot.server.press_button(WORKER, pay, payload_of(pay, "5000元以上"))
    saved, matches = (await bot.server.wait_for_messages(WORKER, seen + 2))[seen:]
    assert "区：西青区；工种：焊工；工资：每月5000元以上" in (saved.text or "")
    return matches


async def test_the_digest_arrives_once_at_the_hour_with_matching_postings_only(
    bot: JobsBot,
) -> None:
    assert "还没有符合条件的岗位" in ((await set_preferences(bot)).text or "")
    bot.import_rows(
        row(WELDER, 用人单位="天津焊接一厂"),
        row(CLEANER, 所在区="西青区"),  # another trade
        row(WELDER, 岗位编号="XQ-009", 用人单位="过期钢构", 有效期至="2027-02-28"),
        row(WELDER, 岗位编号="XQ-010", 用人单位="低薪钢构", 薪资下限="2000", 薪资上限="3000"),
        row(WELDER, 岗位编号="BD-011", 用人单位="宝坻钢构", 所在区="宝坻区"),  # far away
    )
    seen = len(bot.server.messages_to(WORKER))
    bot.at(1, 9, 59)
    assert await bot.tick() == 0
    bot.at(1, 10, 0)
    assert await bot.tick() == 1
    digest = await next_message(bot, seen)
    text = digest.text or ""
    assert "天津焊接一厂" in text and "来源：西青区人社局" in text and "导入" in text
    assert "以用人单位和人社部门发布为准" in text and "/jobs off" in text
    for never in ("保洁员", "过期钢构", "低薪钢构", "宝坻钢构"):
        assert never not in text
    bot.at(1, 10, 5)
    assert await bot.tick() == 0
    bot.at(2, 10, 0)  # nothing new the next day: no digest
    assert await bot.tick() == 0
    await asyncio.sleep(0.2)
    assert len(bot.server.messages_to(WORKER)) == seen + 1
    detail = await press(bot, digest, "看第1条")
    assert "电话：022-12345678" in (detail.text or "")
    reported = await press(bot, detail, "⚠️ 举报这条")
    assert "已转给工作人员" in (reported.text or "")
    kinds = sorted(e.kind for e in bot.rows(JobEventRecord))  # type: ignore[attr-defined]
    assert kinds == ["digest_sent", "opened", "preferences_set", "reported"]


async def test_quiet_hours_hold_the_digest_until_morning(bot: JobsBot) -> None:
    await set_preferences(bot)
    bot.import_rows(WELDER)
    seen = len(bot.server.messages_to(WORKER))
    bot.at(1, 21, 30)  # past the hour, but night
    assert await bot.tick() == 0
    bot.at(2, 7, 59)
    assert await bot.tick() == 0
    # Queued just before 21:00 but not sent: it waits for the morning, not the night.
    bot.at(2, 20, 59)
    assert bot.digests.queue(frozenset({"telegram"})) == 1
    bot.at(2, 21, 1)
    assert await bot.tick() == 0
    await asyncio.sleep(0.2)
    assert len(bot.server.messages_to(WORKER)) == seen
    bot.at(3, 8, 0)
    assert await bot.tick() == 1
    assert "电焊工" in ((await next_message(bot, seen)).text or "")


async def test_jobs_off_and_forget_remove_the_preferences(bot: JobsBot) -> None:
    await set_preferences(bot)
    bot.import_rows(WELDER)
    bot.at(1, 10, 0)
    assert await bot.tick() == 1
    assert bot.rows(JobPreferenceRecord) and bot.rows(JobShownRecord)
    seen = len(bot.server.messages_to(WORKER))
    bot.server.send_command(WORKER, "/forget")
    prompt = await next_message(bot, seen)
    done = await press(bot, prompt, "确认删除")
    assert "已删除" in (done.text or "")
    assert bot.rows(JobPreferenceRecord) == [] and bot.rows(JobShownRecord) == []
    assert bot.rows(JobDigestRecord) == []
    assert all(e.user_key is None for e in bot.rows(JobEventRecord))  # type: ignore[attr-defined]
    bot.import_rows(row(WELDER, 岗位编号="XQ-002"))
    bot.at(2, 10, 0)
    assert await bot.tick() == 0
    # Set again (the current postings shown at once), then /jobs off twice.
    shown = await set_preferences(bot)
    assert "1. 电焊工" in (shown.text or "") and "以用人单位和人社部门发布为准" in (
        shown.text or ""
    )
    for expected in ("已停止岗位推送", "你没有设置岗位推送"):
        seen = len(bot.server.messages_to(WORKER))
        bot.server.send_text(WORKER, "/jobs off")
        assert expected in ((await next_message(bot, seen)).text or "")
    assert bot.rows(JobPreferenceRecord) == []
