"""The outbox's way out through Telegram: python-telegram-bot errors become retry decisions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.outbox import RetryLater, Undeliverable
from bot.telegram_channel import CHANNEL, keyboard_for, render, retry_after_seconds
from handlers.messages import Reply

T = TypeVar("T")


async def _classified(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except RetryAfter as error:
        raise RetryLater("429", after=retry_after_seconds(error)) from error
    except Forbidden as error:  # blocked by the person, or the bot left the group
        raise Undeliverable("403") from error
    except BadRequest as error:
        raise Undeliverable(f"400 {error.message[:80]}") from error
    except NetworkError as error:  # timeouts, connection errors and 5xx
        raise RetryLater(type(error).__name__) from error
    except TelegramError as error:
        raise RetryLater(type(error).__name__) from error


class TelegramOutboxTransport:
    """Sends with the application's bot (its rate limiter included), one attempt per call."""

    channel = CHANNEL

    def __init__(self, bot: ExtBot[Any]) -> None:
        self._bot = bot

    async def send(self, address: str, reply: Reply) -> str:
        message_id = ""
        for text, keyboard in render(reply):
            message = await _classified(
                partial(
                    self._bot.send_message,
                    int(address),
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                    disable_web_page_preview=True,
                )
            )
            message_id = str(message.message_id)
        return message_id

    async def edit(self, address: str, message_id: str, reply: Reply) -> None:
        text, _ = render(reply)[0]
        try:
            await _classified(
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
