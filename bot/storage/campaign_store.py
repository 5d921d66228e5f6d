"""The handlers' campaign interfaces on the database, one short transaction per call in a worker
thread (like `SqlDialogueStore`): subscriptions and the campaign information answers carry."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.storage.engine import in_transaction
from bot.storage.repositories import broadcasts, campaigns
from handlers.campaigns import CampaignNotice

T = TypeVar("T")
# Topics × days kept at most; a handful of topics, so this is only reached across many days.
MAX_KEPT_TOPIC_DAYS = 256


class _Transactions:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def _run(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._engine, work)


class SqlSubscriptionStore(_Transactions):
    """`handlers.subscriptions.SubscriptionStore` on an SQLAlchemy engine."""

    async def subscribe(
        self, user_key: str, channel: str, *, address: str, topics: Sequence[str]
    ) -> None:
        await self._run(
            lambda s: broadcasts.subscribe(
                user_key, channel, address=address, topics=topics, session=s
            )
        )

    async def subscribed_topics(self, user_key: str) -> Sequence[str] | None:
        return await self._run(lambda s: broadcasts.subscribed_topics(user_key, session=s))

    async def unsubscribe(self, user_key: str) -> bool:
        return await self._run(lambda s: broadcasts.unsubscribe(user_key, session=s))


class SqlCampaignNotices(_Transactions):
    """`handlers.campaigns.CampaignNotices` on an SQLAlchemy engine.

    With `fresh_for` > 0 the running campaigns per topic and day are kept that many seconds in
    this process: every answer asks, and campaigns change a few times a season.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        fresh_for: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(engine)
        self._fresh_for = fresh_for
        self._clock = clock
        self._kept: dict[tuple[str, date], tuple[float, list[CampaignNotice]]] = {}

    async def notices_for(self, topic: str, today: date) -> Sequence[CampaignNotice]:
        key = (topic, today)
        kept = self._kept.get(key)
        if kept is not None and self._clock() - kept[0] < self._fresh_for:
            return kept[1]

        def running(session: Session) -> list[CampaignNotice]:
            found = campaigns.running_campaigns(topic, today, session=session)
            return [CampaignNotice(c.code, c.name, c.info) for c in found]

        notices = await self._run(running)
        if self._fresh_for > 0:
            if len(self._kept) > MAX_KEPT_TOPIC_DAYS:  # yesterday's keys: start afresh
                self._kept.clear()
            self._kept[key] = (self._clock(), notices)
        return notices
