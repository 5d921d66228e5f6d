"""The Telegram bot's registration: staff cards and broadcasts go through it; it runs on its own
(long polling, or PTB's webhook server) or as a webhook route of the shared server.

python-telegram-bot is imported only once a token is set: it costs memory and start-up time the
other commands don't need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.channels.base import ChannelConfigError, ChannelDeps, ChannelParts, ChannelSpec, RunOptions
from bot.channels.telegram import CHANNEL
from bot.settings import Settings
from bot.storage.case_desk import StaffChat

if TYPE_CHECKING:
    from bot.channels.telegram.context import TelegramDeps
    from bot.limits.send_pace import SendPace

DEFAULT_WEBHOOK_PORT = 8443
DEFAULT_WEBHOOK_PATH = "/telegram"
WEBHOOK_SECRET_MISSING = (
    "webhook 模式需要密钥：请设置 POLICYBOT_TELEGRAM__WEBHOOK_SECRET"
    "（1–256 个字符，A–Z a–z 0–9 _ -）。"
)


def staff_chat(settings: Settings) -> StaffChat | None:
    """The union's Telegram group, where case cards arrive."""
    chat_id = settings.legal_aid.staff_chat_id
    return StaffChat(CHANNEL, str(chat_id)) if chat_id is not None else None


def staff_ids(settings: Settings) -> frozenset[str]:
    return frozenset(f"{CHANNEL}:{user_id}" for user_id in settings.legal_aid.staff_user_ids)


def telegram_deps(deps: ChannelDeps, *, alone: bool) -> TelegramDeps:
    """What the callbacks need; alone, the bot also runs the outbox sender itself."""
    from bot.campaigns.chat_broadcasts import ChatBroadcasts
    from bot.campaigns.pacing import SendLimits
    from bot.channels.telegram.context import TelegramDeps
    from bot.channels.telegram.outbox import TelegramOutboxTransport

    settings = deps.settings
    return TelegramDeps(
        deps.dialogue,
        deps.user_keys,
        broadcasts=ChatBroadcasts(
            deps.engine,
            SendLimits.from_settings(settings.broadcast),
            settings.telegram.admin_user_ids,
            lease_seconds=settings.senders.lease_seconds,
        ),
        casework=deps.casework,
        staff_chat_id=settings.legal_aid.staff_chat_id,
        outbox=(lambda bot: deps.send_outbox(TelegramOutboxTransport(bot))) if alone else None,
    )


def shared_pace(deps: ChannelDeps) -> SendPace | None:
    """Telegram's pace shared through Redis (at the broadcasts' rate, a little under 30/s)."""
    if deps.redis is None:
        return None
    from bot.limits.send_pace import RedisSendPace

    return RedisSendPace.from_settings(deps.redis, deps.settings.broadcast)


def build(deps: ChannelDeps) -> ChannelParts | None:
    """Alone with a token; on the shared server only with a webhook URL (and its secret)."""
    settings = deps.settings.telegram
    if settings.token is None or (not deps.alone and deps.webhook_url is None):
        return None
    if deps.webhook_url is not None and settings.webhook_secret is None:
        raise ChannelConfigError(WEBHOOK_SECRET_MISSING)
    from dataclasses import replace

    from starlette.routing import Route

    from bot.channels.telegram.application import build_application, run_telegram
    from bot.channels.telegram.outbox import TelegramOutboxTransport
    from bot.channels.telegram.webhook import (
        start_webhook_application,
        stop_webhook_application,
        webhook_endpoint,
    )

    token = settings.token.get_secret_value()
    if deps.alone:
        callbacks = telegram_deps(deps, alone=True)

        def run_alone(options: RunOptions) -> None:
            run_telegram(
                settings,
                replace(callbacks, housekeeping=options.housekeeping),
                token=token,
                webhook_url=deps.webhook_url,
                listen=options.listen,
                port=options.port if options.port is not None else DEFAULT_WEBHOOK_PORT,
                pace=shared_pace(deps),
            )

        return ChannelParts(CHANNEL, run_alone=run_alone)
    url = deps.webhook_url
    assert url is not None and settings.webhook_secret is not None  # checked above
    secret = settings.webhook_secret.get_secret_value()
    application = build_application(
        token=token,
        base_url=settings.base_url,
        base_file_url=settings.base_file_url,
        deps=telegram_deps(deps, alone=False),
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        pace=shared_pace(deps),
    )

    async def start() -> None:
        await start_webhook_application(application, url, secret)

    async def stop() -> None:
        await stop_webhook_application(application)

    return ChannelParts(
        CHANNEL,
        routes=[
            Route(
                urlsplit(url).path or DEFAULT_WEBHOOK_PATH,
                webhook_endpoint(application, secret),
                methods=["POST"],
            )
        ],
        transport=TelegramOutboxTransport(application.bot),
        startup=[start],
        shutdown=[stop],
    )


SPEC = ChannelSpec(
    CHANNEL, build, staff_chat=staff_chat, staff_ids=staff_ids, sends_broadcasts=True
)
