"""Broadcasts against the fake Bot API server with Telegram's limits on (30/s overall, 1/s per chat):
the real python-telegram-bot Bot over HTTP, the real database, injected 429, 403 and 5xx."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.campaigns.broadcasts import Broadcaster, audience, broadcast_text
from bot.campaigns.pacing import SendLimits, SendPacer
from bot.storage.models import DeliveryRecord, SubscriptionRecord
from bot.storage.repositories import broadcasts, campaigns
from tests.conftest import create_test_engine
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer

SUBSCRIBERS = 40
FIRST_CHAT = 7000
NEWS = "春风行动招聘会：3月1日上午9点，西青区人力资源市场。带身份证。"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """On SQLite and on PostgreSQL (when configured)."""
    engine = create_test_engine(database_url)
    with Session(engine) as session:
        campaigns.create_campaign(
            "chunfeng2027",
            name="春风行动",
            starts_on=date(2027, 2, 1),
            ends_on=date(2027, 3, 31),
            topics=["employment"],
            info="",
            session=session,
        )
        for number in range(SUBSCRIBERS):
            chat = FIRST_CHAT + number
            broadcasts.subscribe(
                f"user{chat}", "telegram", address=str(chat), topics=[], session=session
            )
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(enforce_limits=True) as server:
        yield server


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    request = HTTPXRequest(connection_pool_size=32)
    async with Bot(DEFAULT_TOKEN, base_url=server.base_url, request=request) as bot:
        yield bot


def queue(engine: Engine, text: str = NEWS) -> int:
    with Session(engine) as session:
        campaign = campaigns.get_campaign("chunfeng2027", session=session)
        assert campaign is not None
        queued = broadcasts.queue_broadcast(
            campaign, text, not_before=None, audience=audience(), session=session
        )
        session.commit()
        assert queued.broadcast.id is not None
        return queued.broadcast.id


def received(server: FakeTelegramServer) -> Counter[int | str]:
    return Counter(call.chat_id for call in server.calls("sendMessage") if call.chat_id is not None)


def every_chat() -> set[int]:
    return {FIRST_CHAT + number for number in range(SUBSCRIBERS)}


async def test_everyone_gets_it_once_within_the_limits(
    engine: Engine, server: FakeTelegramServer, bot: Bot
) -> None:
    report = await Broadcaster(engine, bot).run(queue(engine))
    counts = received(server)
    assert set(counts) == every_chat() and set(counts.values()) == {1}
    assert server.rate_limited == []  # our own pacing kept under 30/s and 1/s per chat
    assert report.sent == SUBSCRIBERS and report.still_pending == 0
    assert server.calls("sendMessage")[0].text == broadcast_text(NEWS)


async def test_429_403_and_500_are_handled_and_nobody_is_missed(
    engine: Engine, server: FakeTelegramServer, bot: Bot
) -> None:
    server.fail_next("sendMessage", status=429, retry_after=1, chat_id=FIRST_CHAT + 3)
    server.fail_next("sendMessage", status=500, times=2, chat_id=FIRST_CHAT + 5)
    server.fail_next("sendMessage", status=502, chat_id=FIRST_CHAT + 6)
    server.block_user(FIRST_CHAT + 7)
    report = await Broadcaster(engine, bot).run(queue(engine))
    counts = received(server)
    assert set(counts) == every_chat() - {FIRST_CHAT + 7} and set(counts.values()) == {1}
    assert (report.sent, report.blocked, report.still_pending) == (SUBSCRIBERS - 1, 1, 0)
    assert len(server.failed) == 5  # 429, 500 ×2, 502, 403
    with Session(engine) as session:
        blocked = session.get(SubscriptionRecord, f"user{FIRST_CHAT + 7}")
        statuses = Counter(d.status for d in session.exec(select(DeliveryRecord)))
    assert blocked is not None and not blocked.active and blocked.address is None
    assert statuses == {"sent": SUBSCRIBERS - 1, "blocked": 1}


async def test_a_stopped_broadcast_resumes_without_duplicates_or_gaps(
    engine: Engine, server: FakeTelegramServer, bot: Bot
) -> None:
    server.response_delay = 0.3  # several sends are in flight when the stop comes
    broadcast_id = queue(engine)
    first_run = asyncio.create_task(Broadcaster(engine, bot).run(broadcast_id))
    await server.wait_for_call("sendMessage", count=12, timeout=10)
    first_run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first_run
    delivered_before = sum(received(server).values())
    assert 12 <= delivered_before < SUBSCRIBERS
    report = await Broadcaster(engine, bot).run(queue(engine))  # the same command, run again
    counts = received(server)
    assert set(counts) == every_chat() and set(counts.values()) == {1}
    assert report.sent == SUBSCRIBERS - delivered_before and report.still_pending == 0


async def test_a_finished_broadcast_sends_nothing_when_run_again(
    engine: Engine, server: FakeTelegramServer, bot: Bot
) -> None:
    await Broadcaster(engine, bot).run(queue(engine))
    again = await Broadcaster(engine, bot).run(queue(engine))
    assert again.sent == 0 and len(server.calls("sendMessage")) == SUBSCRIBERS


async def test_only_subscribers_interested_in_the_campaign_receive_it(
    engine: Engine, server: FakeTelegramServer, bot: Bot
) -> None:
    with Session(engine) as session:
        broadcasts.unsubscribe(f"user{FIRST_CHAT}", session=session)
        broadcasts.subscribe(
            f"user{FIRST_CHAT + 1}",
            "telegram",
            address=str(FIRST_CHAT + 1),
            topics=["school"],
            session=session,
        )
        broadcasts.subscribe(
            f"user{FIRST_CHAT + 2}",
            "telegram",
            address=str(FIRST_CHAT + 2),
            topics=["jobs"],
            session=session,
        )
        session.commit()
    broadcast_id = queue(engine)
    with Session(engine) as session:  # unsubscribing after the queueing still counts
        broadcasts.unsubscribe(f"user{FIRST_CHAT + 4}", session=session)
        session.commit()
    report = await Broadcaster(engine, bot).run(broadcast_id)
    assert set(received(server)) == every_chat() - {FIRST_CHAT, FIRST_CHAT + 1, FIRST_CHAT + 4}
    assert report.gone == 1


def test_the_pacer_keeps_30_per_second_overall_and_1_per_second_per_chat() -> None:
    now = [100.0]
    pacer = SendPacer(SendLimits(messages_per_second=30), clock=lambda: now[0])
    times = [pacer.reserve(f"chat{n}") for n in range(90)]
    assert all(
        later - earlier >= 1.0 - 1e-9 for earlier, later in zip(times, times[30:], strict=False)
    )
    again = pacer.reserve("chat89")
    assert again - times[-1] >= 1.0
    pacer.pause(5)
    assert pacer.reserve("chat200") >= now[0] + 5
