"""Two app instances (two processes) on one database and one Redis: the web chat's limits and
WeChat's de-duplication hold for both together; without Redis each process counts alone, as
before."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.storage.models import WechatReceiptRecord
from bot.storage.repositories.conversations import list_questions
from knowledge.match import Matcher
from tests.bot.channels.wechat.test_channel import wechat_section
from tests.bot.server_harness import Server, engine_in, running_server, settings_for
from tests.fake_wechat import WechatPlatform

SESSION = "s" * 20 + "_shared-limits"
WORKER = "oWorker_shared"


@contextlib.asynccontextmanager
async def two_processes(
    tmp_path: Path, matcher: Matcher, **sections: Any
) -> AsyncIterator[tuple[Server, Server, Engine]]:
    engine = engine_in(tmp_path)
    settings = settings_for(tmp_path, **sections)
    async with (
        running_server(settings, engine, matcher) as first,
        running_server(settings, engine, matcher) as second,
    ):
        yield first, second, engine


async def statuses(servers: tuple[Server, Server], bodies: list[dict[str, Any]]) -> list[int]:
    """Each request to the next process in turn, one after another."""
    codes = []
    for n, body in enumerate(bodies):
        response = await servers[n % 2].http.post("/api/chat", json=body)
        codes.append(response.status_code)
    return codes


async def test_the_session_limit_holds_across_two_processes_on_redis(
    tmp_path: Path, plan_matcher: Matcher, redis_section: dict[str, str]
) -> None:
    async with two_processes(
        tmp_path,
        plan_matcher,
        redis=redis_section,
        web_chat={"requests_per_minute_per_session": 3},
    ) as (first, second, _):
        codes = await statuses((first, second), [{"session": SESSION, "text": "你好"}] * 8)
    assert codes.count(200) == 3 and codes.count(429) == 5 and codes[:3] == [200] * 3


async def test_the_address_limit_holds_across_two_processes_on_redis(
    tmp_path: Path, plan_matcher: Matcher, redis_section: dict[str, str]
) -> None:
    async with two_processes(
        tmp_path, plan_matcher, redis=redis_section, web_chat={"requests_per_minute_per_ip": 4}
    ) as (first, second, _):
        bodies = [{"session": f"session-number-{n:08d}", "text": "你好"} for n in range(10)]
        codes = await statuses((first, second), bodies)
    assert codes.count(200) == 4


async def test_without_redis_each_process_keeps_its_own_count(
    tmp_path: Path, plan_matcher: Matcher
) -> None:
    async with two_processes(
        tmp_path, plan_matcher, web_chat={"requests_per_minute_per_session": 3}
    ) as (first, second, _):
        codes = await statuses((first, second), [{"session": SESSION, "text": "你好"}] * 8)
    # Today's behaviour, unchanged: three per process.
    assert codes.count(200) == 6


async def test_redis_never_holds_the_session_token_or_the_address(
    tmp_path: Path, plan_matcher: Matcher, redis_section: dict[str, str]
) -> None:
    async with two_processes(tmp_path, plan_matcher, redis=redis_section) as (first, _, _):
        response = await first.http.post("/api/chat", json={"session": SESSION, "text": "你好"})
        assert response.status_code == 200
    client = redis.Redis.from_url(redis_section["url"])
    try:
        keys = [key.decode() for key in client.scan_iter(match=f"{redis_section['key_prefix']}:*")]
    finally:
        client.close()
    assert len(keys) == 2  # the session's window and the address's
    assert not any(SESSION in key or "127.0.0.1" in key or "testclient" in key for key in keys)


async def test_wechat_answers_a_message_once_across_two_processes_on_redis(
    tmp_path: Path, plan_matcher: Matcher, redis_section: dict[str, str]
) -> None:
    async with two_processes(
        tmp_path, plan_matcher, redis=redis_section, wechat=wechat_section("plain")
    ) as (first, second, engine):
        platforms = WechatPlatform(first.http), WechatPlatform(second.http)
        message = platforms[0].text(WORKER, "公租房怎么申请")
        # WeChat retries while the first delivery is still being answered, at the other process.
        replies = await asyncio.gather(*(p.deliver(message) for p in platforms))
        again = await platforms[1].deliver(message)
        assert replies[0].content == replies[1].content == again.content
        assert "依据：" in replies[0].content
        with Session(engine) as session:
            assert len(list_questions(session=session)) == 1
            # The claim went to Redis: no receipt row, no database round trip for it.
            assert session.exec(select(WechatReceiptRecord)).all() == []


async def test_numbered_choices_still_work_across_processes_on_redis(
    tmp_path: Path, plan_matcher: Matcher, redis_section: dict[str, str]
) -> None:
    async with two_processes(
        tmp_path, plan_matcher, redis=redis_section, wechat=wechat_section("plain")
    ) as (first, second, _):
        on_first, on_second = WechatPlatform(first.http), WechatPlatform(second.http)
        menu = await on_first.deliver(on_first.text(WORKER, "菜单"))
        assert "回复 1 " in menu.content
        # The number is answered by the other process: the choices live in the database.
        number = on_second.text(WORKER, "1", msg_id=on_first.message_id())
        picked = await on_second.deliver(number)
        assert picked.content and picked.content != menu.content


async def test_without_redis_wechat_keeps_its_database_receipts(
    tmp_path: Path, plan_matcher: Matcher
) -> None:
    async with two_processes(tmp_path, plan_matcher, wechat=wechat_section("plain")) as (
        first,
        second,
        engine,
    ):
        platforms = WechatPlatform(first.http), WechatPlatform(second.http)
        message = platforms[0].text(WORKER, "公租房怎么申请")
        replies = await asyncio.gather(*(p.deliver(message) for p in platforms))
        assert replies[0].content == replies[1].content
        with Session(engine) as session:
            assert len(list_questions(session=session)) == 1
            assert len(session.exec(select(WechatReceiptRecord)).all()) == 1
