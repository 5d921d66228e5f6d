"""The matcher every process answers with, kept up to date with the curators' additions.

A curator's action bumps a revision number in the database in the same transaction as the
addition. Before answering, each process looks at that number — at most once every few seconds,
one indexed row — and when it moved, rebuilds the matcher in a background thread (about a
second) and swaps it in; questions meanwhile get the old one. The process where the curator
acted rebuilds at once (`rebuild_now`), so the next question there is answered the new way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from sqlmodel import Session

from bot.events import log_event
from bot.storage.repositories.knowledge_additions import current_revision
from knowledge.match import Matcher

Build = Callable[[], tuple[int, Matcher]]


class LiveKnowledge:
    """`handlers.knowledge_source.KnowledgeSource` on the database's revision counter."""

    def __init__(
        self,
        engine: Engine,
        matcher: Matcher,
        revision: int,
        *,
        build: Build,
        check_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._matcher = matcher
        self._revision = revision
        self._build = build
        self._check_seconds = check_seconds
        self._clock = clock
        self._checked_at = clock()
        self._rebuild: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Its own thread: the default executor may be the one SQLite thread every request uses.
        self._builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher")

    @property
    def matcher(self) -> Matcher:
        return self._matcher

    @property
    def revision(self) -> int:
        return self._revision

    async def latest(self) -> Matcher:
        now = self._clock()
        if now - self._checked_at >= self._check_seconds and not self._is_rebuilding:
            self._checked_at = now
            if await self._stored_revision() != self._revision:
                self._rebuild = asyncio.create_task(self._rebuild_logged())
        return self._matcher

    async def rebuild_now(self) -> None:
        """Rebuild and swap before returning (after this process changed the additions)."""
        if self._rebuild is not None and not self._rebuild.done():
            # One under way may have read the revision before the change: wait, then build again.
            with contextlib.suppress(Exception):
                await self._rebuild
        await self._rebuild_and_swap()

    @property
    def _is_rebuilding(self) -> bool:
        return self._rebuild is not None and not self._rebuild.done()

    async def _stored_revision(self) -> int:
        def read() -> int:
            with Session(self._engine) as session:
                return current_revision(session=session)

        return await asyncio.get_running_loop().run_in_executor(self._builder, read)

    async def _rebuild_logged(self) -> None:
        try:
            await self._rebuild_and_swap()
        except Exception as error:  # a failed rebuild keeps the old matcher answering
            log_event("knowledge_rebuild_failed", logging.ERROR, error=type(error).__name__)

    async def _rebuild_and_swap(self) -> None:
        async with self._lock:
            started = time.perf_counter()
            revision, matcher = await asyncio.get_running_loop().run_in_executor(
                self._builder, self._build
            )
            if revision >= self._revision:
                self._matcher, self._revision = matcher, revision
            self._checked_at = self._clock()
            log_event(
                "knowledge_rebuilt",
                revision=revision,
                clauses=len(matcher.entries),
                seconds=round(time.perf_counter() - started, 3),
            )

    def close(self) -> None:
        self._builder.shutdown(wait=False, cancel_futures=True)
