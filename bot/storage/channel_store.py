"""What the button-less channels remember in the database: numbered choices and WeChat receipts.

Every call is one short transaction in a worker thread (like the dialogue store), so any process
sees the same numbers and the same receipts, and a restart loses neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.storage.engine import in_transaction, run_transaction
from bot.storage.repositories import numbered_choices, wechat_receipts
from handlers.messages import Choice

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Claim:
    """A message's first delivery (or not), with the choices the person was last shown."""

    is_first: bool
    choices: tuple[Choice, ...]
    rest: str | None


class ChannelStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine

    async def _run(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._engine, work)

    async def save_choices(
        self, user_key: str, choices: tuple[Choice, ...], rest: str | None
    ) -> None:
        pairs = [(choice.label, choice.payload) for choice in choices]
        await self._run(lambda s: numbered_choices.save_choices(user_key, pairs, rest, session=s))

    async def load_choices(self, user_key: str) -> tuple[tuple[Choice, ...], str | None]:
        pairs, rest = await self._run(lambda s: numbered_choices.load_choices(user_key, session=s))
        return tuple(Choice(label, payload) for label, payload in pairs), rest

    async def forget_choices(self, user_key: str) -> None:
        await self._run(lambda s: numbered_choices.forget_choices(user_key, session=s))

    async def claim_receipt(self, dedupe_key: str, user_key: str, *, keep_for: timedelta) -> Claim:
        """Claim a message (False for a retry) and load the person's numbered choices, at once;
        receipts older than `keep_for` are forgotten."""

        def work(session: Session) -> Claim:
            if not wechat_receipts.claim_receipt(dedupe_key, keep_for=keep_for, session=session):
                return Claim(False, (), None)
            pairs, rest = numbered_choices.load_choices(user_key, session=session)
            return Claim(True, tuple(Choice(label, payload) for label, payload in pairs), rest)

        return await self._run(work)

    async def store_reply(
        self,
        dedupe_key: str,
        reply: str,
        *,
        user_key: str,
        choices: tuple[Choice, ...] | None,
        rest: str | None,
    ) -> None:
        """The reply for retries, and (unless None) the choices it numbered, in one transaction."""
        pairs = [(choice.label, choice.payload) for choice in choices or ()]

        def work(session: Session) -> None:
            wechat_receipts.store_reply(dedupe_key, reply, session=session)
            if choices is not None:
                numbered_choices.save_choices(user_key, pairs, rest, session=session)

        await self._run(work)

    async def stored_reply(self, dedupe_key: str) -> str | None:
        return await self._run(lambda s: wechat_receipts.stored_reply(dedupe_key, session=s))

    def purge_receipts(self, older_than: timedelta) -> int:
        """Synchronous: called from the housekeeping thread."""
        return run_transaction(
            self._engine, lambda s: wechat_receipts.purge_receipts(older_than=older_than, session=s)
        )
