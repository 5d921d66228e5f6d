"""Legal-aid notices through WeChat's customer-service API (the fake one): sent, or classified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.delivery import RetryLater, Undeliverable
from bot.channels.wechat.customer_service import CustomerServiceClient
from bot.channels.wechat.outbox import WechatOutboxTransport
from bot.storage.channel_store import ChannelStore
from bot.user_keys import UserKeyHasher
from handlers.messages import Choice, Reply
from tests.bot.server_harness import engine_in
from tests.fake_wechat import APPID, APPSECRET, FakeCustomerServiceApi

OPENID = "oWorker_0009"
NOTICE = Reply("你的案件 LA-20261129-0001 已有工作人员接手。", (Choice("查看进度", "/mycase"),))


@pytest.fixture
async def api() -> AsyncIterator[FakeCustomerServiceApi]:
    async with FakeCustomerServiceApi() as fake:
        yield fake


@pytest.fixture
async def transport(
    api: FakeCustomerServiceApi, tmp_path: Path
) -> AsyncIterator[tuple[WechatOutboxTransport, ChannelStore, UserKeyHasher]]:
    client = CustomerServiceClient(base_url=api.base_url, appid=APPID, appsecret=APPSECRET)
    store = ChannelStore(engine_in(tmp_path))
    user_keys = UserKeyHasher("test-secret")
    yield WechatOutboxTransport(client, store=store, user_keys=user_keys), store, user_keys
    await client.aclose()


async def test_a_notice_is_sent_with_its_choices_numbered_and_remembered(
    api: FakeCustomerServiceApi,
    transport: tuple[WechatOutboxTransport, ChannelStore, UserKeyHasher],
) -> None:
    sender, store, user_keys = transport
    await sender.send(OPENID, NOTICE)
    (sent,) = api.sent
    assert sent.openid == OPENID and "回复 1 查看进度" in sent.content
    choices, _ = await store.load_choices(user_keys.key_for("wechat", OPENID))
    assert choices == NOTICE.choices


async def test_past_the_48_hour_window_is_undeliverable(
    api: FakeCustomerServiceApi,
    transport: tuple[WechatOutboxTransport, ChannelStore, UserKeyHasher],
) -> None:
    api.refuse_next(45015, "response out of time limit")
    with pytest.raises(Undeliverable):
        await transport[0].send(OPENID, NOTICE)


async def test_a_rate_limit_is_retried_later(
    api: FakeCustomerServiceApi,
    transport: tuple[WechatOutboxTransport, ChannelStore, UserKeyHasher],
) -> None:
    api.refuse_next(45047, "out of response count limit")
    with pytest.raises(RetryLater):
        await transport[0].send(OPENID, NOTICE)
