"""Replies out as Telegram messages: HTML-escaped, at most 4,096 characters, with a keyboard."""

from __future__ import annotations

import html

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import MessageLimit

from handlers import texts
from handlers.messages import Reply

MAX_MESSAGE_CHARS: int = MessageLimit.MAX_TEXT_LENGTH
MAX_CALLBACK_BYTES = 64
# Labels this short sit two to a row; longer ones get a row each so they stay readable on a phone.
SHORT_LABEL_CHARS = 8


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    pieces.append(text)
    return pieces


def keyboard_for(reply: Reply) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for choice in reply.choices:
        if len(choice.payload.encode()) > MAX_CALLBACK_BYTES:
            continue  # Telegram would refuse the whole message; a missing button is the lesser harm
        button = InlineKeyboardButton(choice.label, callback_data=choice.payload)
        last = rows[-1] if rows else None
        if (
            last is not None
            and len(last) == 1
            and len(choice.label) <= SHORT_LABEL_CHARS
            and len(last[0].text) <= SHORT_LABEL_CHARS
        ):
            last.append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows) if rows else None


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def phone_keyboard(reply: Reply) -> ReplyKeyboardMarkup:
    """Telegram's share-my-number button; the reply's choices become typed-word buttons beside it
    (a message carries one keyboard, and the flow understands the labels as words)."""
    rows = [[KeyboardButton(texts.PHONE_BUTTON, request_contact=True)]]
    rows += [[KeyboardButton(choice.label)] for choice in reply.choices]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


def markup_for(reply: Reply) -> Markup | None:
    if reply.asks_phone:
        return phone_keyboard(reply)
    if reply.hides_keyboard:
        return ReplyKeyboardRemove()
    return keyboard_for(reply)


def render(reply: Reply) -> list[tuple[str, Markup | None]]:
    """HTML-escaped messages for one reply; the keyboard rides on the last one."""
    # Split the plain text, then escape: Telegram counts length after parsing the HTML, and
    # splitting escaped text could cut an entity such as &amp; in two.
    pieces = split_text(reply.text.strip() or "…")
    rendered: list[tuple[str, Markup | None]] = [
        (html.escape(piece, quote=False), None) for piece in pieces
    ]
    rendered[-1] = (rendered[-1][0], markup_for(reply))
    return rendered
