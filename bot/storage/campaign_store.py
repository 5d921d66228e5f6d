"""The handlers' campaign interfaces on the database, one short transaction per call in a worker
thread (like `SqlDialogueStore`): subscriptions and the campaign information answers carry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.storage.engine import in_transaction
from bot.storage.repositories import broadcasts, campaigns
from handlers.campaigns import CampaignNotice

T = TypeVar("T")


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
    """`handlers.campaigns.CampaignNotices` on an SQLAlchemy engine."""

    async def notices_for(self, topic: str, today: date) -> Sequence[CampaignNotice]:
        def running(session: Session) -> list[CampaignNotice]:
            found = campaigns.running_campaigns(topic, today, session=session)
            return [CampaignNotice(c.code, c.name, c.info) for c in found]

        return await self._run(running)
