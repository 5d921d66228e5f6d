"""What a forger, a replayer or an unlucky worker sends to /wechat: stale or future timestamps are
refused, a replay within the window meets its receipt, odd signatures are a 403 (never a 500),
and a text that merely contains `<!` or `<?` is answered. Through the real app, on temp SQLite."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.channels.wechat.adapter import WechatConfig
from bot.channels.wechat.xml import UnsafeXmlError, parse_fields
from bot.storage.models import NumberedChoicesRecord, WechatReceiptRecord
from bot.storage.repositories.conversations import list_questions
from bot.storage.repositories.wechat_receipts import RECEIPT_RETENTION
from knowledge.match import Matcher
from tests.bot.channels.wechat.test_channel import WORKER, wechat_section
from tests.bot.server_harness import Server, engine_in, running_server, settings_for
from tests.fake_wechat import WechatPlatform

HOUR = 3600


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return engine_in(tmp_path)


@pytest.fixture(params=["plain", "safe"])
async def server(
    request: pytest.FixtureRequest, tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> AsyncIterator[tuple[Server, WechatPlatform]]:
    settings = settings_for(tmp_path, wechat=wechat_section(request.param))
    async with running_server(settings, engine, plan_matcher) as running:
        yield running, WechatPlatform(running.http, mode=request.param)


@pytest.mark.parametrize("age", [365 * 24 * HOUR, 301, -301], ids=["a-year-old", "stale", "future"])
async def test_a_request_signed_outside_the_window_is_refused(
    server: tuple[Server, WechatPlatform], age: int
) -> None:
    _, wechat = server
    signed_at = int(time.time()) - age
    reply = await wechat.deliver(wechat.text(WORKER, "社保怎么交"), timestamp=signed_at)
    check = await wechat.verify("echo-1", timestamp=signed_at)
    assert reply.status == 403 and check.status_code == 403


async def test_a_request_signed_within_the_window_is_answered(
    server: tuple[Server, WechatPlatform],
) -> None:
    _, wechat = server
    reply = await wechat.deliver(
        wechat.text(WORKER, "社保怎么交"), timestamp=int(time.time()) - 250
    )
    assert reply.status == 200 and "依据：" in reply.content


@pytest.mark.parametrize(
    "query",
    [
        {"signature": "é" * 40},
        {"signature": "签名"},
        {"timestamp": "１２３"},
        {"timestamp": "9" * 40},
    ],
    ids=["latin", "chinese", "full-width-timestamp", "huge-timestamp"],
)
async def test_odd_query_values_are_refused_not_crashed_on(
    server: tuple[Server, WechatPlatform], query: dict[str, str]
) -> None:
    running, wechat = server
    params = {**wechat.signed_query(), **query}
    posted = await running.http.post("/wechat", params=params, content=b"<xml></xml>")
    checked = await running.http.get("/wechat", params={**params, "echostr": "x"})
    assert posted.status_code == 403 and checked.status_code == 403


async def test_a_signature_that_is_not_utf8_is_refused(
    server: tuple[Server, WechatPlatform],
) -> None:
    running, wechat = server
    query = "&".join(f"{k}={v}" for k, v in wechat.signed_query().items() if k != "signature")
    for signature in ("%FF%FE", "%C3%A9" * 40, "%ED%B3%BF"):
        response = await running.http.post(f"/wechat?signature={signature}&{query}", content=b"x")
        assert response.status_code == 403, signature


@pytest.mark.parametrize(
    "content", ["看看这个 <!-- 注释 -->", "<?php echo 1; ?>", "<!DOCTYPE html> 是啥", "😀<!>"]
)
async def test_text_containing_markup_signs_is_answered(
    server: tuple[Server, WechatPlatform], content: str
) -> None:
    _, wechat = server
    reply = await wechat.deliver(wechat.text(WORKER, content))
    assert reply.status == 200 and reply.content


def test_only_the_envelope_is_checked_for_declarations() -> None:
    fields = parse_fields(
        b'<?xml version="1.0"?><xml><Content><![CDATA[<!-- a --> <?b?> <!DOCTYPE c>]]></Content>'
        b"<MsgId>1</MsgId></xml>"
    )
    assert fields["Content"] == "<!-- a --> <?b?> <!DOCTYPE c>"
    for unsafe in (
        b"<xml><!-- c --><a>1</a></xml>",
        b"<xml><?pi x?><a>1</a></xml>",
        b"<!DOCTYPE x [<!ENTITY e 'y'>]><xml><a><![CDATA[z]]></a><b>&e;</b></xml>",
        b"<xml><a><![CDATA[x]]></a><!DOCTYPE y></xml>",
    ):
        with pytest.raises(UnsafeXmlError):
            parse_fields(unsafe)


def test_receipts_last_at_least_two_windows() -> None:
    config = WechatConfig("token", "plain", 4.5, None, timestamp_window=timedelta(hours=1))
    assert config.receipt_retention == timedelta(hours=2)
    short = WechatConfig("token", "plain", 4.5, None, timestamp_window=timedelta(seconds=30))
    assert short.receipt_retention == RECEIPT_RETENTION


async def test_a_replay_within_a_long_window_meets_its_receipt(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    window = {"timestamp_window_seconds": HOUR}
    settings = settings_for(tmp_path, wechat=wechat_section("plain", **window))
    async with running_server(settings, engine, plan_matcher) as running:
        wechat = WechatPlatform(running.http)
        captured = wechat.text(WORKER, "创业担保贷款怎么申请")
        signed_at = int(time.time()) - 20 * 60
        first = await wechat.deliver(captured, timestamp=signed_at)
        with Session(engine) as session:  # received 20 minutes ago, past the old 10-minute purge
            for receipt in session.exec(select(WechatReceiptRecord)).all():
                receipt.received_at -= timedelta(minutes=20)
                session.add(receipt)
            session.commit()
        await wechat.deliver(wechat.text(WORKER, "你好"))  # a claim purges old receipts
        replayed = await wechat.deliver(captured, timestamp=signed_at)
    assert replayed.content == first.content
    with Session(engine) as session:
        assert len(list_questions(session=session)) == 1  # the captured one, processed once
        assert len(session.exec(select(WechatReceiptRecord)).all()) == 2


async def test_a_stale_number_answers_only_the_step_it_was_shown_for(
    tmp_path: Path, engine: Engine, plan_matcher: Matcher
) -> None:
    """A crash after the state moved on but before the new numbers were saved leaves the old
    numbers: the district's number sent again is not taken for the next step."""
    settings = settings_for(tmp_path, wechat=wechat_section("plain"))
    async with running_server(settings, engine, plan_matcher) as running:
        wechat = WechatPlatform(running.http)

        async def say(text: str) -> str:
            return (await wechat.deliver(wechat.text(WORKER, text))).content

        await say("法律援助")
        await say("1")  # 同意
        districts = await say("1")  # 欠薪
        key = running.user_keys.key_for("wechat", WORKER)
        with Session(engine) as session:
            shown = session.get(NumberedChoicesRecord, key)
            assert shown is not None
            district_numbers = list(shown.choices)
        await say(re.findall(r"^回复 (\d+) 西青区$", districts, re.M)[0])
        with Session(engine) as session:  # as a crash would leave them: the district numbers
            record = session.get(NumberedChoicesRecord, key)
            assert record is not None
            record.choices = district_numbers
            session.add(record)
            session.commit()
        again = await say("5")
        assert "已经记下了" in again and "手机号" in again
        await say("13812345678")
        await say("跳过")
        summary = await say("老板拖欠三个月工资不给")
    assert "区：西青区" in summary
