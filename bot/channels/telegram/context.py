"""What the Telegram callbacks share: the dependencies in `bot_data` and the typed context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.ext import (
    Application,
    CallbackContext,
    ExtBot,
)

from bot.campaigns.chat_broadcasts import ChatBroadcasts
from bot.channels.base import Conversation
from bot.user_keys import UserKeyHasher
from handlers.casework import Casework


@dataclass(frozen=True, slots=True)
class TelegramDeps:
    """What the callbacks need, handed over through bot_data instead of globals."""

    dialogue: Conversation
    user_keys: UserKeyHasher
    # Periodic upkeep while the bot runs (the retention purge); None in tests.
    housekeeping: Callable[[], Awaitable[None]] | None = None
    # Admins' /broadcast; None turns the command off.
    broadcasts: ChatBroadcasts | None = None
    # Legal-aid staff: their actions, and the group where case cards arrive.
    casework: Casework | None = None
    staff_chat_id: int | None = None
    # Runs the outbox sender for Telegram once the bot is up (given the application's bot).
    outbox: Callable[[ExtBot[Any]], Coroutine[Any, Any, None]] | None = None


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """python-telegram-bot's context with our dependencies behind a typed property."""

    @property
    def deps(self) -> TelegramDeps:
        deps = self.bot_data["deps"]
        assert isinstance(deps, TelegramDeps)
        return deps


# python-telegram-bot's generics (bot, context, data stores, job queue) spelled once.
TelegramApplication = Application[Any, BotContext, Any, Any, Any, Any]
