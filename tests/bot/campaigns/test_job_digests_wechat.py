"""Job postings on WeChat end to end: the production app (`bot.app.compose`) behind /wechat, the
fake WeChat platform and its customer-service API. Preferences by numbered choices; the digest
goes out as a customer-service message inside the 48 hours after the worker's last message, and
is shown at their next message otherwise."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from bot.app import App, compose
from bot.campaigns.job_sheet import HEADER, check_sheet
from bot.channels.outbox import OutboxTransport
from bot.server import build_server
from bot.storage.engine import run_transaction
from bot.storage.repositories import job_postings
from handlers.campaigns import CHINA_TIME
from knowledge.jobs import load_job_tables
from knowledge.match import Matcher
from tests.bot.campaigns.job_fixtures import WELDER, Clock
from tests.bot.server_harness import engine_in, settings_for
from tests.fake_wechat import APPID, APPSECRET, TOKEN, FakeCustomerServiceApi, WechatPlatform

WORKER = "oJobs_0001"
AWAY = "oJobs_0002"


@dataclass
class WechatJobs:
    app: App
    wechat: WechatPlatform
    api: FakeCustomerServiceApi
    transport: OutboxTransport
    clock: Clock

    def at(self, day: int, hour: int) -> None:
        self.clock.now = datetime(2027, 3, day, hour, tzinfo=CHINA_TIME)

    async def say(self, openid: str, text: str) -> str:
        return (await self.wechat.deliver(self.wechat.text(openid, text))).content


def numbered(content: str) -> dict[str, str]:
    return {label: number for number, label in re.findall(r"^回复 (\d+) (.+)$", content, re.M)}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return engine_in(tmp_path)


@pytest.fixture
async def jobs(tmp_path: Path, engine: Engine, plan_matcher: Matcher) -> AsyncIterator[WechatJobs]:
    clock = Clock(datetime(2027, 3, 1, 7, tzinfo=CHINA_TIME))
    async with FakeCustomerServiceApi() as api:
        section = {
            "token": TOKEN,
            "appid": APPID,
            "mode": "plain",
            "appsecret": APPSECRET,
            "api_base_url": api.base_url,
        }
        # The server's own digest loop ticks once at start (07:00: quiet) and then waits an
        # hour; the test ticks it itself.
        settings = settings_for(tmp_path, wechat=section, jobs={"check_seconds": 3600})
        wired = compose(settings, engine=engine, matcher=plan_matcher, secret="s", clock=clock)
        channels = wired.channels()
        server = build_server(wired, channels)
        transport = next(p.transport for p in channels if p.transport is not None)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(server.router.lifespan_context(server))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=server), base_url="http://testserver"
                )
            )
            yield WechatJobs(wired, WechatPlatform(http), api, transport, clock)


async def choose_welding_in_xiqing(jobs: WechatJobs, openid: str) -> str:
    consent = await jobs.say(openid, "找工作")
    assert "隐私说明" in consent
    districts = await jobs.say(openid, numbered(consent)["同意"])
    chosen = await jobs.say(openid, numbered(districts)["西青区"])
    assert "已选：西青区" in chosen
    trades = await jobs.say(openid, numbered(chosen)["下一步"])
    picked = await jobs.say(openid, "电焊工")
    assert "已选：焊工" in picked and trades
    pay = await jobs.say(openid, numbered(picked)["下一步"])
    return await jobs.say(openid, numbered(pay)["5000元以上"])


def import_welder(jobs: WechatJobs) -> None:
    result = check_sheet([list(HEADER), WELDER], load_job_tables())
    run_transaction(
        jobs.app.engine,
        lambda s: job_postings.upsert_postings(result.rows, file_name="w.xlsx", session=s),
    )


async def test_a_wechat_worker_gets_the_digest_once_inside_the_window(jobs: WechatJobs) -> None:
    saved = await choose_welding_in_xiqing(jobs, WORKER)
    assert "区：西青区；工种：焊工；工资：每月5000元以上" in saved
    assert "还没有符合条件的岗位" in saved
    import_welder(jobs)
    jobs.at(2, 10)  # 27 hours after the last message: inside WeChat's 48
    assert await jobs.app.digests.tick(jobs.transport) == 1
    (sent,) = await jobs.api.wait_for(1)
    assert sent.openid == WORKER and "电焊工" in sent.content
    assert "来源：西青区人社局" in sent.content and "以用人单位和人社部门发布为准" in sent.content
    assert "/jobs off" in sent.content
    assert await jobs.app.digests.tick(jobs.transport) == 0
    # The digest's numbered 看第1条 works like any reply's choices.
    detail = await jobs.say(WORKER, numbered(sent.content)["看第1条"])
    assert "电话：022-12345678" in detail and len(jobs.api.sent) == 1


async def test_outside_the_window_the_digest_waits_for_the_next_message(jobs: WechatJobs) -> None:
    await choose_welding_in_xiqing(jobs, AWAY)
    import_welder(jobs)
    jobs.at(4, 10)  # three days since the last message: WeChat would refuse a push
    assert await jobs.app.digests.tick(jobs.transport) == 0
    assert jobs.api.sent == []
    answer = await jobs.say(AWAY, "你好")
    assert answer.startswith("你不在时来的新岗位") and "电焊工" in answer
    assert "你不在时" not in await jobs.say(AWAY, "你好")  # shown once
