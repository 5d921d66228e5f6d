"""`/broadcast CODE` + text from an admin's Telegram chat: queue it, send it in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Bot

from bot.campaigns.broadcasts import (
    DEFAULT_LEASE_SECONDS,
    Broadcaster,
    BroadcastReport,
    audience,
    check_broadcast_text,
)
from bot.campaigns.pacing import SendLimits
from bot.storage.claims import new_lease
from bot.storage.engine import in_transaction
from bot.storage.models import CampaignRecord
from bot.storage.repositories import broadcasts as repository


class ChatBroadcasts:
    """`/broadcast CODE` + text from an admin's chat: queue it and send it in the background."""

    def __init__(
        self,
        engine: Engine,
        limits: SendLimits,
        admin_user_ids: Sequence[int],
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._engine = engine
        self._limits = limits
        self._lease_seconds = lease_seconds
        self._admins = frozenset(admin_user_ids)
        self._running: set[asyncio.Task[BroadcastReport]] = set()

    def is_admin(self, user_id: int) -> bool:
        return user_id in self._admins

    async def start(self, campaign_code: str, text: str, bot: Bot) -> str:
        """Queue (or resume) the broadcast and start sending; returns what to tell the admin."""
        problem = check_broadcast_text(text)
        if problem:
            return f"{problem}。用法：/broadcast 活动代码，换行后写消息内容。"

        def queue(session: Session) -> tuple[int, bool, int] | None:
            campaign = session.get(CampaignRecord, campaign_code)
            if campaign is None:
                return None
            queued = repository.queue_broadcast(
                campaign, text, not_before=None, audience=audience(), session=session
            )
            assert queued.broadcast.id is not None
            pending = repository.delivery_counts(queued.broadcast.id, session=session)
            return queued.broadcast.id, queued.created, pending.get(repository.PENDING, 0)

        found = await in_transaction(self._engine, queue)
        if found is None:
            return f"没有活动 {campaign_code}。"
        broadcast_id, created, pending = found
        if not pending:
            return f"群发 #{broadcast_id} 已经发完，没有再发。"
        task = asyncio.create_task(
            Broadcaster(
                self._engine,
                bot,
                limits=self._limits,
                lease=new_lease("broadcast", self._lease_seconds),
            ).run(broadcast_id)
        )
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        verb = "开始" if created else "继续"
        return f"{verb}群发 #{broadcast_id}：{pending} 人待发。"
