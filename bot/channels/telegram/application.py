"""The python-telegram-bot Application: our callbacks registered, per-chat ordering, the command
menu, background tasks started and stopped with the bot, long polling or PTB's own webhook."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    Update,
)
from telegram.ext import (
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram.callbacks import on_broadcast_command, on_error, on_update
from bot.channels.telegram.casework import on_case_button
from bot.channels.telegram.context import BotContext, TelegramApplication, TelegramDeps
from bot.channels.telegram.pace_limiter import rate_limiter
from bot.channels.telegram.sending import send_with_retry
from bot.events import log_event
from bot.housekeeping import keep_house
from bot.limits.send_pace import SendPace
from bot.settings import TelegramSettings
from handlers.casework import CASE_PAYLOAD_PREFIX

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "开始：能问什么"),
    ("topics", "按类别看政策"),
    ("legalaid", "法律援助：工会免费帮忙"),
    ("mycase", "我的法律援助申请"),
    ("subscribe", "订阅招聘会等活动消息"),
    ("unsubscribe", "退订活动消息"),
    ("help", "怎么用"),
    ("forget", "删除我的个人信息"),
)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within one chat (a conversation's steps must not race)."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(chat.id, None)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


async def register_commands(application: TelegramApplication) -> None:
    """The command menu Telegram shows beside the text field."""
    await send_with_retry(
        lambda: application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    )
    log_event("telegram_ready", username=application.bot.username)


async def on_start(application: TelegramApplication) -> None:
    """After start-up: the command menu, then the periodic upkeep."""
    await register_commands(application)
    deps = application.bot_data["deps"]
    if isinstance(deps, TelegramDeps) and deps.housekeeping is not None:
        # Our own task (post_init runs before the application counts as running); on_stop ends it.
        application.bot_data["housekeeping"] = asyncio.create_task(keep_house(deps.housekeeping))
    if isinstance(deps, TelegramDeps) and deps.outbox is not None:
        application.bot_data["outbox"] = asyncio.create_task(deps.outbox(application.bot))


async def on_stop(application: TelegramApplication) -> None:
    """Stop the upkeep and log the shutdown."""
    for name in ("housekeeping", "outbox"):
        task = application.bot_data.pop(name, None)
        if isinstance(task, asyncio.Task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    log_event("telegram_stopped", username=application.bot.username)


def build_application(
    *,
    token: str,
    base_url: str,
    base_file_url: str,
    deps: TelegramDeps,
    connect_timeout: float,
    read_timeout: float,
    max_concurrent_updates: int = 64,
    overall_per_second: float = 30,
    pace: SendPace | None = None,
) -> TelegramApplication:
    """The python-telegram-bot Application with our callbacks; `main` only runs it. With a
    shared `pace` (Redis) every send waits its slot in it; else AIORateLimiter, per process."""
    context_types = ContextTypes(context=BotContext)
    application: TelegramApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .context_types(context_types)
        .rate_limiter(rate_limiter(pace, max_retries=3, overall_per_second=overall_per_second))
        .concurrent_updates(PerChatUpdateProcessor(max_concurrent_updates))
        .connect_timeout(connect_timeout)
        .read_timeout(read_timeout)
        .get_updates_read_timeout(read_timeout + 30)
        .post_init(on_start)
        .post_stop(on_stop)
        .build()
    )
    application.bot_data["deps"] = deps
    application.add_handler(CallbackQueryHandler(on_case_button, pattern=f"^{CASE_PAYLOAD_PREFIX}"))
    application.add_handler(CallbackQueryHandler(on_update))
    application.add_handler(CommandHandler("broadcast", on_broadcast_command))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGES | filters.UpdateType.EDITED_MESSAGE, on_update)
    )
    application.add_error_handler(on_error)
    return application


def run_telegram(
    settings: TelegramSettings,
    deps: TelegramDeps,
    *,
    token: str,
    webhook_url: str | None,
    listen: str,
    port: int,
    pace: SendPace | None = None,
) -> None:
    """Long polling, or a webhook whose every request must carry the secret token."""
    application = build_application(
        pace=pace,
        token=token,
        base_url=settings.base_url,
        base_file_url=settings.base_file_url,
        deps=deps,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    if webhook_url is None:
        application.run_polling(
            timeout=int(settings.poll_timeout), allowed_updates=Update.ALL_TYPES, close_loop=False
        )
        return
    secret = settings.webhook_secret
    assert secret is not None  # checked by the CLI before anything starts
    application.run_webhook(
        **webhook_options(webhook_url, secret.get_secret_value(), listen=listen, port=port),
        close_loop=False,
    )


def webhook_options(url: str, secret: str, *, listen: str, port: int) -> dict[str, Any]:
    """Where PTB's webhook server listens; it refuses (403) requests without the secret header."""
    return {
        "listen": listen,
        "port": port,
        "url_path": urlsplit(url).path.lstrip("/"),
        "webhook_url": url,
        "secret_token": secret,
        "allowed_updates": Update.ALL_TYPES,
    }
