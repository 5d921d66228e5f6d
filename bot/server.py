"""One ASGI server for every HTTP channel: it mounts what the channels register (routes), starts
and stops what they need with the server, runs their outbox senders and the housekeeping round,
and shares one event loop with all of them. It names no channel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from bot.app import App
from bot.channels.base import ChannelParts
from bot.events import log_event
from bot.housekeeping import keep_house
from bot.monitoring.endpoints import RequestCounter, monitoring_routes
from bot.monitoring.readiness import Readiness


def build_server(app: App, channels: Sequence[ChannelParts]) -> Starlette:
    """The server's routes and lifespan for the built channels; /healthz and /metrics beside
    them, every request counted."""
    routes: list[BaseRoute] = monitoring_routes(Readiness(app.engine, app.redis), app.metrics)
    for parts in channels:
        routes += parts.routes

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if app.engine.dialect.name == "sqlite":
            # SQLite has one writer at a time: with several worker threads, transactions wait in
            # SQLite's busy handler, which sleeps in steps of up to 100 ms. One database thread
            # queues them instead (bench: p99 at 10 WeChat messages at once 590 → ~140 ms).
            asyncio.get_running_loop().set_default_executor(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
            )
        for parts in channels:
            for start in parts.startup:
                await start()
        loops = [
            asyncio.create_task(keep_house(lambda: app.housekeeping(channels))),
            *(asyncio.create_task(loop()) for parts in channels for loop in parts.tasks),
            *(
                asyncio.create_task(app.send_outbox(parts.transport))
                for parts in channels
                if parts.transport is not None
            ),
        ]
        log_event("server_ready", channels=",".join(parts.name for parts in channels))
        try:
            yield
        finally:
            for task in loops:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for parts in channels:
                for stop in parts.shutdown:
                    await stop()
            await app.close()
            log_event("server_stopped")

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(RequestCounter, routes=routes, metrics=app.metrics)],
    )
