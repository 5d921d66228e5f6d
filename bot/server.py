"""One ASGI server for every HTTP channel: the web chat, WeChat, Telegram's webhook, /healthz.

`build_app` only wires: each channel is a thin adapter with its own module; this file gives them
routes, starts and stops what they need with the server (the Telegram application, the
customer-service client, the periodic upkeep), and shares one event loop with all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.channel_store import ChannelStore
from bot.customer_service import CustomerServiceClient
from bot.events import log_event
from bot.outbox import OutboxSender
from bot.repositories.wechat_receipts import RECEIPT_RETENTION
from bot.settings import Settings
from bot.user_keys import UserKeyHasher
from bot.web_chat import WebChat, WebChatLimits
from bot.wechat.adapter import LateSender, WechatChannel, WechatConfig
from bot.wechat.crypto import MessageCipher
from bot.wechat.outbox import WechatOutboxTransport
from handlers.dialogue import Dialogue
from knowledge.normalizer import ScriptConverter

HOUSEKEEPING_SECONDS = 6 * 3600

Hook = Callable[[], Awaitable[None]]
Loop = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class TelegramRoute:
    """Telegram's webhook on the shared server: the route, and how to start and stop the bot."""

    path: str
    endpoint: Callable[[Request], Awaitable[Response]]
    start: Hook
    stop: Hook


@dataclass
class ServerHooks:
    startup: list[Hook] = field(default_factory=list)
    shutdown: list[Hook] = field(default_factory=list)
    # Background loops run while the server runs (cancelled at shutdown).
    tasks: list[Loop] = field(default_factory=list)


async def healthz(_request: Request) -> Response:
    return JSONResponse({"ok": True})


async def to_chat(_request: Request) -> Response:
    return RedirectResponse("/chat")


def wechat_channel(
    settings: Settings,
    *,
    dialogue: Dialogue,
    to_traditional: Callable[[str], str],
    is_traditional: Callable[[str], bool],
    user_keys: UserKeyHasher,
    store: ChannelStore,
    hooks: ServerHooks,
) -> WechatChannel | None:
    """The /wechat endpoint when a token is configured (and the late-answer client with a secret)."""
    wechat = settings.wechat
    if wechat.token is None:
        return None
    cipher = (
        MessageCipher(wechat.encoding_aes_key.get_secret_value(), wechat.appid)
        if wechat.encoding_aes_key is not None and wechat.mode != "plain"
        else None
    )
    late_sender: LateSender | None = None
    if wechat.appsecret is not None and wechat.appid:
        client = CustomerServiceClient(
            base_url=wechat.api_base_url,
            appid=wechat.appid,
            appsecret=wechat.appsecret.get_secret_value(),
        )
        late_sender = client.send_text
        hooks.shutdown.append(client.aclose)
        # Legal-aid notices to workers who came through WeChat (case taken, case closed).
        sender = OutboxSender(
            store.engine,
            WechatOutboxTransport(client, store=store, user_keys=user_keys),
            to_traditional=to_traditional,
        )
        hooks.tasks.append(sender.run)
    channel = WechatChannel(
        config=WechatConfig(
            token=wechat.token.get_secret_value(),
            mode=wechat.mode,
            reply_budget_seconds=wechat.reply_budget_seconds,
            cipher=cipher,
        ),
        dialogue=dialogue,
        user_keys=user_keys,
        store=store,
        late_sender=late_sender,
        is_traditional=is_traditional,
    )
    # Late answers still being sent finish before the client closes (shutdown runs in order).
    hooks.shutdown.insert(0, channel.wait_for_late_answers)
    return channel


async def keep_house(work: Callable[[], object]) -> None:
    """Run the upkeep in a thread every HOUSEKEEPING_SECONDS while the server runs (the start-up
    already ran it once)."""
    while True:
        await asyncio.sleep(HOUSEKEEPING_SECONDS)
        try:
            await asyncio.to_thread(work)
        except Exception as error:  # upkeep failing must not stop the channels
            log_event("housekeeping_failed", logging.ERROR, error=type(error).__name__)


def build_app(
    settings: Settings,
    *,
    dialogue: Dialogue,
    user_keys: UserKeyHasher,
    engine: Engine,
    converter: ScriptConverter,
    telegram: TelegramRoute | None = None,
    housekeeping: Callable[[], object] | None = None,
) -> Starlette:
    """The server's routes and lifespan; every part comes from the composition root."""
    hooks = ServerHooks()
    store = ChannelStore(engine)
    to_traditional = converter.to_traditional
    web_chat = WebChat(
        dialogue=dialogue,
        user_keys=user_keys,
        to_traditional=to_traditional,
        limits=WebChatLimits.from_settings(settings.web_chat),
    )
    routes: list[BaseRoute] = [
        Route("/", to_chat),
        Route("/healthz", healthz),
        Route("/chat", web_chat.page),
        Route("/api/chat", web_chat.api, methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("bot", "static")]), name="static"),
    ]
    wechat = wechat_channel(
        settings,
        dialogue=dialogue,
        to_traditional=to_traditional,
        is_traditional=converter.is_traditional,
        user_keys=user_keys,
        store=store,
        hooks=hooks,
    )
    if wechat is not None:
        routes.append(Route("/wechat", wechat.verify, methods=["GET"]))
        routes.append(Route("/wechat", wechat.receive, methods=["POST"]))
    if telegram is not None:
        routes.append(Route(telegram.path, telegram.endpoint, methods=["POST"]))
        hooks.startup.append(telegram.start)
        hooks.shutdown.insert(0, telegram.stop)

    def upkeep() -> None:
        if housekeeping is not None:
            housekeeping()
        purged = store.purge_receipts(RECEIPT_RETENTION)
        log_event("wechat_receipts_purged", receipts=purged)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if engine.dialect.name == "sqlite":
            # SQLite has one writer at a time: with several worker threads, transactions wait in
            # SQLite's busy handler, which sleeps in steps of up to 100 ms. One database thread
            # queues them instead (bench: p99 at 10 WeChat messages at once 590 → ~140 ms).
            asyncio.get_running_loop().set_default_executor(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
            )
        for start in hooks.startup:
            await start()
        loops: list[asyncio.Task[None]] = [asyncio.create_task(loop()) for loop in hooks.tasks]
        if housekeeping is not None:
            loops.append(asyncio.create_task(keep_house(upkeep)))
        log_event("server_ready", wechat=wechat is not None, telegram=telegram is not None)
        try:
            yield
        finally:
            for task in loops:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for stop in hooks.shutdown:
                await stop()
            log_event("server_stopped")

    return Starlette(routes=routes, lifespan=lifespan)
