"""The legal-aid staff in their Telegram group: 接单 / 结案 / 备注 on case cards, and their
replies (a note, an outcome) to the bot's prompts."""

from __future__ import annotations

import html
from functools import partial

from telegram import (
    ForceReply,
    Update,
    User,
)
from telegram.constants import ParseMode

from bot.channels.telegram import CHANNEL
from bot.channels.telegram.context import BotContext
from bot.channels.telegram.sending import send_with_retry
from bot.events import log_event
from handlers.cases import StaffMember


def staff_member(user: User) -> StaffMember:
    return StaffMember(f"{CHANNEL}:{user.id}", user.full_name)


async def on_case_button(update: Update, context: BotContext) -> None:
    """接单 / 结案 / 备注 on a case card: only configured staff may act."""
    query = update.callback_query
    casework = context.deps.casework
    if query is None or query.from_user is None:
        return
    if casework is None:
        await send_with_retry(query.answer)
        return
    staff = staff_member(query.from_user)
    answer = await casework.press(staff, query.data or "")
    await send_with_retry(
        partial(query.answer, answer.acknowledgement[:200], show_alert=answer.refused)
    )
    chat = update.effective_chat
    if answer.prompt is not None and chat is not None:
        # Mention the staff member so the selective ForceReply opens their reply field only.
        mention = f'<a href="tg://user?id={query.from_user.id}">{html.escape(staff.name)}</a>'
        text = html.escape(answer.prompt.text, quote=False).replace(
            html.escape(staff.name, quote=False), mention, 1
        )
        await send_with_retry(
            partial(
                context.bot.send_message,
                chat.id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=ForceReply(selective=True),
            )
        )
    log_event("legal_aid_staff_press", refused=answer.refused, prompt=answer.prompt is not None)


async def handle_staff_text(update: Update, context: BotContext) -> bool:
    """A staff member's reply (note or outcome) in the staff chat; False if it isn't one."""
    deps = context.deps
    message = update.message
    user = update.effective_user
    if (
        deps.casework is None
        or message is None
        or user is None
        or message.chat.id != deps.staff_chat_id
        or message.text is None
        or message.reply_to_message is None
        or message.reply_to_message.from_user is None
        or message.reply_to_message.from_user.id != context.bot.id
    ):
        return False
    staff = staff_member(user)
    answer = await deps.casework.write(staff, message.text)
    if answer is None:
        return False
    await send_with_retry(
        partial(context.bot.send_message, message.chat.id, answer.acknowledgement)
    )
    return True
