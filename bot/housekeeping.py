"""The one housekeeping loop: the upkeep round now, then every period, while the bot runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.events import log_event

HOUSEKEEPING_SECONDS = 6 * 3600


async def keep_house(
    work: Callable[[], Awaitable[None]], *, period_seconds: float = HOUSEKEEPING_SECONDS
) -> None:
    """Run `work` at start and every `period_seconds` until cancelled."""
    while True:
        try:
            await work()
        except Exception as error:  # upkeep failing must not stop answering workers
            log_event("housekeeping_failed", logging.ERROR, error=type(error).__name__)
        await asyncio.sleep(period_seconds)
