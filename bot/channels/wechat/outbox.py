"""The outbox's way out through WeChat: legal-aid notices to workers as customer-service messages.

A notice's choices become numbered lines and are remembered like a passive reply's, so the worker
can answer with a number. WeChat allows these messages only within 48 hours of the person's last
message; outside that (and for people who unfollowed) delivery is given up, not retried forever.
"""

from __future__ import annotations

import httpx

from bot.channels.delivery import RetryLater, Undeliverable
from bot.channels.wechat.adapter import CHANNEL
from bot.channels.wechat.customer_service import CustomerServiceClient, CustomerServiceError
from bot.channels.wechat.replies import compose
from bot.storage.channel_store import ChannelStore
from bot.user_keys import UserKeyHasher
from handlers.messages import Reply

# 45015: past the 48-hour window; 43004: not following the account; 40003: unknown openid.
NEVER_DELIVERABLE = frozenset({45015, 43004, 40003, 40125, 40013})


class WechatOutboxTransport:
    channel = CHANNEL

    def __init__(
        self, client: CustomerServiceClient, *, store: ChannelStore, user_keys: UserKeyHasher
    ) -> None:
        self._client = client
        self._store = store
        self._user_keys = user_keys

    async def send(self, address: str, reply: Reply) -> str:
        page = compose([reply])
        try:
            await self._client.send_text(address, page.text)
        except CustomerServiceError as error:
            if error.errcode in NEVER_DELIVERABLE or (error.status or 0) in (400, 403, 404):
                raise Undeliverable(str(error)) from error
            raise RetryLater(str(error)) from error
        except httpx.HTTPError as error:
            raise RetryLater(type(error).__name__) from error
        user_key = self._user_keys.key_for(CHANNEL, address)
        await self._store.save_choices(user_key, page.choices, page.rest)
        return ""  # WeChat gives customer-service messages no id

    async def edit(self, address: str, message_id: str, reply: Reply) -> None:
        """WeChat messages cannot be edited (staff cards live in Telegram, never here)."""
        raise Undeliverable("WeChat messages cannot be edited")
