"""The dialogue as the channels see it: every turn timed and counted by verdict, in one place
for the web chat, WeChat and Telegram alike."""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager

from bot.channels.base import Conversation
from bot.monitoring.metrics import Metrics
from handlers.messages import IncomingMessage, Turn


class ObservedDialogue:
    def __init__(self, dialogue: Conversation, metrics: Metrics) -> None:
        self._dialogue = dialogue
        self._metrics = metrics

    async def handle(self, message: IncomingMessage) -> Turn:
        started = time.perf_counter()
        turn = await self._dialogue.handle(message)
        self._metrics.observe_turn(message.channel, turn, time.perf_counter() - started)
        return turn

    def turn(self, user_key: str) -> AbstractAsyncContextManager[None]:
        return self._dialogue.turn(user_key)
