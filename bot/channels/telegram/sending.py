"""Sending to Telegram: python-telegram-bot errors become the shared verdicts (`RetryLater`,
`Undeliverable`), and replies are retried by the shared policy, so a hiccup delays a reply but
doesn't lose it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from telegram import Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.channels.delivery import RetryLater, RetryPolicy, Undeliverable, retrying
from bot.channels.telegram.rendering import render
from handlers.messages import Reply

T = TypeVar("T")
# Replies to a person: a few quick tries (0.5, 1, 2, 4 s), then the error handler logs it.
REPLY_RETRIES = RetryPolicy(first_backoff=0.5, max_backoff=30.0, max_attempts=5)


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's wait in seconds (python-telegram-bot gives an int or, newer, a timedelta)."""
    wait = error.retry_after
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)


def verdict(error: TelegramError) -> RetryLater | Undeliverable:
    """What an error from the Bot API means for a send: wait and retry, or give up."""
    if isinstance(error, RetryAfter):
        return RetryLater("429", after=retry_after_seconds(error))
    if isinstance(error, Forbidden):  # blocked by the person, or the bot left the group
        return Undeliverable("403", blocked=True)
    if isinstance(error, BadRequest):
        return Undeliverable(f"400 {error.message[:80]}")
    return RetryLater(type(error).__name__)  # timeouts, connection errors, 5xx


async def classified(call: Callable[[], Awaitable[T]]) -> T:
    """`call`, with python-telegram-bot's errors raised as the shared verdicts (one attempt)."""
    try:
        return await call()
    except TelegramError as error:
        raise verdict(error) from error


async def send_with_retry(
    call: Callable[[], Awaitable[T]], *, policy: RetryPolicy = REPLY_RETRIES
) -> T:
    """Retry what may succeed later (429 after retry_after, network errors, 5xx); not 400 or 403.
    When it gives up, the caller sees python-telegram-bot's own error."""
    try:
        return await retrying(lambda: classified(call), policy)
    except (RetryLater, Undeliverable) as error:
        cause = error.__cause__
        assert cause is not None  # raised by `classified`, always from a TelegramError
        raise cause from None


# One try of a send: `classified` (the outbox retries later) or `send_with_retry` (replies).
Attempt = Callable[[Callable[[], Awaitable[Message]]], Awaitable[Message]]


async def send_reply(
    bot: ExtBot[Any], chat_id: int, reply: Reply, *, attempt: Attempt = send_with_retry
) -> list[Message]:
    """One reply as its HTML messages, keyboard on the last; returns the messages sent."""
    sent: list[Message] = []
    for text, keyboard in render(reply):
        message = await attempt(
            partial(
                bot.send_message,
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                disable_web_page_preview=True,
            )
        )
        sent.append(message)
    return sent


async def deliver(bot: ExtBot[Any], chat_id: int, replies: Sequence[Reply]) -> int:
    """Send every reply in order; returns the number of Telegram messages sent."""
    sent = 0
    for reply in replies:
        sent += len(await send_reply(bot, chat_id, reply))
    return sent
