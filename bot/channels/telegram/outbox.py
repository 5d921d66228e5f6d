"""The outbox's way out through Telegram: one attempt per call, errors as the shared verdicts."""

from __future__ import annotations

from typing import Any

from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.channels.delivery import Undeliverable
from bot.channels.telegram import CHANNEL
from bot.channels.telegram.rendering import keyboard_for, render
from bot.channels.telegram.sending import classified, send_reply
from handlers.messages import Reply


class TelegramOutboxTransport:
    """Sends with the application's bot (its rate limiter included), one attempt per call."""

    channel = CHANNEL

    def __init__(self, bot: ExtBot[Any]) -> None:
        self._bot = bot

    async def send(self, address: str, reply: Reply) -> str:
        sent = await send_reply(self._bot, int(address), reply, attempt=classified)
        return str(sent[-1].message_id) if sent else ""

    async def edit(self, address: str, message_id: str, reply: Reply) -> None:
        text, _ = render(reply)[0]
        try:
            await classified(
                lambda: self._bot.edit_message_text(
                    text,
                    chat_id=int(address),
                    message_id=int(message_id),
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard_for(reply),
                    disable_web_page_preview=True,
                )
            )
        except Undeliverable as error:
            if "not modified" in str(error):
                return  # already shows this: done
            raise
