"""The first hello and how to use the bot: /start (with a deep-link source), /help, 帮助, 你好."""

from __future__ import annotations

import re
from collections.abc import Callable

from handlers import texts, words
from handlers.flow import Flow
from handlers.messages import IncomingMessage, MessageKind, Reply, Turn
from handlers.state import ConversationState, DialogueStore
from handlers.topics import topic_menu

# Deep-link payloads: Telegram allows A–Z a–z 0–9 _ - and at most 64 characters.
_DEEP_LINK_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class HelpFlow(Flow):
    """The welcome and the help, each with the topic menu under it."""

    def __init__(self, store: DialogueStore, *, to_simplified: Callable[[str], str]) -> None:
        self._store = store
        self._to_simplified = to_simplified

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        command = message.command
        if command is not None:
            return command.name in ("start", "help")
        return message.kind == MessageKind.TEXT and self._word(message) in (
            words.HELP_WORDS | words.GREETINGS
        )

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        command = message.command
        if command is not None and command.name == "start":
            payload = (command.argument or "").strip()
            if payload and _DEEP_LINK_PAYLOAD.match(payload):
                # Where the person came from (a campaign poster's QR code).
                await self._store.touch_user(
                    message.user_key, message.channel, language=message.language, source=payload
                )
            return Turn((Reply(texts.WELCOME, topic_menu().choices),))
        if command is None and self._word(message) in words.GREETINGS:
            return Turn((Reply(texts.WELCOME, topic_menu().choices),))
        return Turn((Reply(texts.HELP, topic_menu().choices),))

    def _word(self, message: IncomingMessage) -> str:
        return words.plain_word(message.text, self._to_simplified)
