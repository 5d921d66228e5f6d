"""The worker-facing callbacks: every message or button press through the dialogue and back,
an admin's /broadcast, and the error handler."""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.error import TelegramError

from bot.channels.telegram import CHANNEL
from bot.channels.telegram.casework import handle_staff_text
from bot.channels.telegram.context import BotContext
from bot.channels.telegram.inbound import is_addressed_to_bot, to_incoming
from bot.channels.telegram.sending import deliver, send_with_retry
from bot.events import log_event


async def on_update(update: Update, context: BotContext) -> None:
    """Any message, edited message or button press: through the dialogue and back."""
    started = time.perf_counter()
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return
    if update.callback_query is not None:
        await send_with_retry(update.callback_query.answer)
    else:
        message = update.effective_message
        if message is None or not is_addressed_to_bot(
            message, context.bot.username, context.bot.id
        ):
            return
    deps = context.deps
    if await handle_staff_text(update, context):
        return
    incoming = to_incoming(update, deps.user_keys.key_for(CHANNEL, user.id), context.bot.username)
    if incoming is None:
        return
    turn = await deps.dialogue.handle(incoming)
    sent = await deliver(context.bot, chat.id, turn.replies)
    question = turn.question
    log_event(
        "telegram_turn",
        user=incoming.user_key[:12],
        kind=incoming.kind.value,
        clause=question.clause if question else None,
        score=question.score if question else None,
        fallback=question.fallback if question else None,
        handoff=question.handoff if question else None,
        messages=sent,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure by type only (no message text, no names); the bot keeps running."""
    error = context.error
    log_event(
        "telegram_error",
        logging.ERROR,
        error=type(error).__name__,
        detail=str(error)[:200] if isinstance(error, TelegramError) else None,
        update_id=update.update_id if isinstance(update, Update) else None,
    )


async def on_broadcast_command(update: Update, context: BotContext) -> None:
    """`/broadcast CODE` with the message on the next lines, from an admin; others get the dialogue."""
    broadcasts = context.deps.broadcasts
    user = update.effective_user
    message = update.effective_message
    if broadcasts is None or user is None or message is None or not broadcasts.is_admin(user.id):
        await on_update(update, context)
        return
    first_line, _, text = (message.text or "").partition("\n")
    words = first_line.split()
    code = words[1] if len(words) > 1 else ""
    answer = await broadcasts.start(code, text.strip(), context.bot)
    await send_with_retry(lambda: message.reply_text(answer))
    log_event("telegram_broadcast_command", accepted=answer.startswith(("开始", "继续")))
