"""Telegram updates in: an Update becomes the neutral `IncomingMessage` (user key = HMAC of the
Telegram user id); no Telegram type crosses into `handlers/`."""

from __future__ import annotations

from telegram import (
    Message,
    Update,
)
from telegram.constants import ChatType

from bot.channels.telegram import CHANNEL
from handlers.messages import IncomingMessage, MessageKind


def is_addressed_to_bot(message: Message, bot_username: str, bot_id: int) -> bool:
    """In a group the bot speaks only when mentioned or replied to; in a private chat, always."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    text = message.text or message.caption or ""
    return bool(bot_username) and f"@{bot_username}".lower() in text.lower()


def to_incoming(update: Update, user_key: str, bot_username: str) -> IncomingMessage | None:
    """The neutral message for an update, or None when it is not for the bot."""
    language = update.effective_user.language_code if update.effective_user else None
    address = str(update.effective_chat.id) if update.effective_chat else None
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return IncomingMessage.pressed(user_key, CHANNEL, data, language=language, address=address)
    message = update.effective_message
    if message is None:
        return None
    if message.text is not None:
        text = message.text
        if bot_username:
            text = text.replace(f"@{bot_username}", " ").strip()
        return IncomingMessage.typed(user_key, CHANNEL, text, language=language, address=address)
    contact = message.contact
    sender = update.effective_user
    if contact is not None and sender is not None and contact.user_id == sender.id:
        # Only the person's own number (the share-my-number button), never a forwarded card.
        return IncomingMessage(
            user_key,
            CHANNEL,
            MessageKind.CONTACT,
            contact.phone_number,
            language=language,
            address=address,
        )
    return IncomingMessage(
        user_key, CHANNEL, MessageKind.UNSUPPORTED, language=language, address=address
    )
