"""The WeChat Official Account's registration: /wechat when a token is configured, and with an
appsecret the customer-service client for late answers and legal-aid notices."""

from __future__ import annotations

from datetime import timedelta

from starlette.routing import Route

from bot.channels.base import ChannelDeps, ChannelParts, ChannelSpec
from bot.channels.wechat.adapter import CHANNEL, LateSender, WechatChannel, WechatConfig
from bot.channels.wechat.crypto import MessageCipher
from bot.channels.wechat.customer_service import CustomerServiceClient
from bot.channels.wechat.outbox import WechatOutboxTransport
from bot.channels.wechat.receipts import RedisReceipts, WechatStore
from bot.events import log_event
from bot.storage.channel_store import ChannelStore


def purge_receipts(store: ChannelStore, config: WechatConfig) -> None:
    """Receipts answer WeChat's retries and catch replays within the timestamp window: older go."""
    purged = store.purge_receipts(config.receipt_retention)
    log_event("wechat_receipts_purged", receipts=purged)


def build(deps: ChannelDeps) -> ChannelParts | None:
    wechat = deps.settings.wechat
    if wechat.token is None or deps.alone:
        return None
    cipher = (
        MessageCipher(wechat.encoding_aes_key.get_secret_value(), wechat.appid)
        if wechat.encoding_aes_key is not None and wechat.mode != "plain"
        else None
    )
    config = WechatConfig(
        token=wechat.token.get_secret_value(),
        mode=wechat.mode,
        reply_budget_seconds=wechat.reply_budget_seconds,
        cipher=cipher,
        timestamp_window=timedelta(seconds=wechat.timestamp_window_seconds),
    )
    parts = ChannelParts(
        CHANNEL,
        upkeep=[lambda: purge_receipts(deps.store, config)],
        notice="公众号回调地址：{base}/wechat",
    )
    late_sender: LateSender | None = None
    if wechat.appsecret is not None and wechat.appid:
        client = CustomerServiceClient(
            base_url=wechat.api_base_url,
            appid=wechat.appid,
            appsecret=wechat.appsecret.get_secret_value(),
        )
        late_sender = client.send_text
        # Legal-aid notices to workers who came through WeChat (case taken, case closed).
        parts.transport = WechatOutboxTransport(client, store=deps.store, user_keys=deps.user_keys)
        parts.shutdown.append(client.aclose)
    # With Redis every process sees every receipt without a database round trip.
    receipts: WechatStore = (
        deps.store if deps.redis is None else RedisReceipts(deps.redis, deps.store)
    )
    channel = WechatChannel(
        config=config,
        dialogue=deps.dialogue,
        user_keys=deps.user_keys,
        store=receipts,
        late_sender=late_sender,
        is_traditional=deps.converter.is_traditional,
    )
    parts.routes += [
        Route("/wechat", channel.verify, methods=["GET"]),
        Route("/wechat", channel.receive, methods=["POST"]),
    ]
    # Late answers still being sent finish before the client closes (shutdown runs in order).
    parts.shutdown.insert(0, channel.wait_for_late_answers)
    return parts


SPEC = ChannelSpec(CHANNEL, build)
