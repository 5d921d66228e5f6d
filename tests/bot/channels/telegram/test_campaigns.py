"""Campaigns through Telegram end to end: the real Application polls the fake Bot API server;
deep links, /subscribe with topic buttons, 退订, campaign information in answers, admin /broadcast."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.campaigns.chat_broadcasts import ChatBroadcasts
from bot.campaigns.pacing import SendLimits
from bot.channels.telegram.application import register_commands
from bot.channels.telegram.context import TelegramDeps
from bot.storage.campaign_store import SqlCampaignNotices, SqlSubscriptionStore
from bot.storage.dialogue_store import SqlDialogueStore
from bot.storage.engine import create_engine_for, init_db
from bot.storage.models import CampaignArrival, SubscriptionRecord
from bot.storage.repositories import campaigns
from bot.user_keys import UserKeyHasher
from handlers.campaigns import today_in_tianjin
from handlers.flows import build_dialogue
from handlers.subscriptions import Subscriptions
from knowledge.match import Matcher
from tests.bot.channels.telegram.test_channel import application_for, payload_of
from tests.fake_telegram import FakeTelegramServer

WORKER = 2001
OTHER_WORKER = 2002
ADMIN = 900
CODE = "chunfeng2027"


@dataclass
class CampaignBot:
    server: FakeTelegramServer
    engine: Engine
    user_keys: UserKeyHasher


@pytest.fixture
async def bot(plan_matcher: Matcher, tmp_path: Path) -> AsyncIterator[CampaignBot]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'bot.db'}")
    init_db(engine)
    today = today_in_tianjin()
    with Session(engine) as session:
        campaigns.create_campaign(
            CODE,
            name="春风行动",
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=1),
            topics=["employment", "campaign"],
            info="3月1日西青区人力资源市场招聘会。",
            session=session,
        )
        session.commit()
    user_keys = UserKeyHasher("test-secret")
    dialogue = build_dialogue(
        plan_matcher,
        SqlDialogueStore(engine),
        subscriptions=Subscriptions(SqlSubscriptionStore(engine)),
        campaigns=SqlCampaignNotices(engine),
    )
    chat_broadcasts = ChatBroadcasts(engine, SendLimits(), [ADMIN])
    async with FakeTelegramServer(enforce_limits=True) as server:
        application = application_for(
            server, TelegramDeps(dialogue, user_keys, broadcasts=chat_broadcasts)
        )
        async with application:
            await register_commands(application)
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            yield CampaignBot(server, engine, user_keys)
            await application.updater.stop()
            await application.stop()
    engine.dispose()


def subscription(bot: CampaignBot, chat: int) -> SubscriptionRecord | None:
    with Session(bot.engine) as session:
        return session.get(SubscriptionRecord, bot.user_keys.key_for("telegram", chat))


async def test_a_poster_link_records_campaign_and_place(bot: CampaignBot) -> None:
    bot.server.send_command(WORKER, "/start", payload=f"{CODE}_xiqing")
    await bot.server.wait_for_messages(WORKER, 1)
    await asyncio.sleep(0.05)
    with Session(bot.engine) as session:
        (arrival,) = session.exec(select(CampaignArrival)).all()
    assert (arrival.campaign_code, arrival.place, arrival.new_user) == (CODE, "xiqing", True)


async def test_subscribe_narrow_and_unsubscribe(bot: CampaignBot) -> None:
    bot.server.send_command(WORKER, "/subscribe")
    (offer,) = await bot.server.wait_for_messages(WORKER, 1)
    assert "已订阅" in (offer.text or "")
    bot.server.press_button(WORKER, offer, payload_of(offer, "只收：找工作·创业"))
    await bot.server.wait_for_messages(WORKER, 2)
    record = subscription(bot, WORKER)
    assert record is not None and record.address == str(WORKER) and record.topics == ["jobs"]
    bot.server.send_text(WORKER, "退订")
    goodbye = (await bot.server.wait_for_messages(WORKER, 3))[2]
    assert "已退订" in (goodbye.text or "")
    record = subscription(bot, WORKER)
    assert record is not None and not record.active and record.address is None


async def test_answers_in_the_window_carry_the_campaign_information(bot: CampaignBot) -> None:
    bot.server.send_text(WORKER, "春风行动招聘会什么时候")
    (answer,) = await bot.server.wait_for_messages(WORKER, 1)
    assert "📢 春风行动：3月1日西青区人力资源市场招聘会。" in (answer.text or "")


async def test_an_admin_broadcasts_from_the_chat_to_subscribers_only(bot: CampaignBot) -> None:
    bot.server.send_command(WORKER, "/subscribe")
    await bot.server.wait_for_messages(WORKER, 1)
    bot.server.send_text(OTHER_WORKER, "你好")
    await bot.server.wait_for_messages(OTHER_WORKER, 1)
    bot.server.send_text(ADMIN, f"/broadcast {CODE}\n招聘会改到3月2日。")
    (confirmation,) = await bot.server.wait_for_messages(ADMIN, 1)
    assert "开始群发" in (confirmation.text or "") and "1 人" in (confirmation.text or "")
    news = (await bot.server.wait_for_messages(WORKER, 2))[1]
    assert (news.text or "").startswith("招聘会改到3月2日。")
    await asyncio.sleep(0.2)
    assert len(bot.server.messages_to(OTHER_WORKER)) == 1


async def test_broadcast_from_someone_else_is_just_a_message(bot: CampaignBot) -> None:
    bot.server.send_command(WORKER, "/subscribe")
    await bot.server.wait_for_messages(WORKER, 1)
    bot.server.send_text(OTHER_WORKER, f"/broadcast {CODE}\n假消息")
    (reply,) = await bot.server.wait_for_messages(OTHER_WORKER, 1)
    assert "群发" not in (reply.text or "")
    await asyncio.sleep(0.2)
    assert len(bot.server.messages_to(WORKER)) == 1
