"""What no feature took, short of a question: stickers and photos, unknown commands, stale buttons.

Sits just before the question flow, which takes every typed message that is left.
"""

from __future__ import annotations

from handlers import texts
from handlers.flow import Flow
from handlers.messages import IncomingMessage, MessageKind, Reply, Turn
from handlers.state import ConversationState


class LeftoversFlow(Flow):
    """A hint for what cannot be read, the help for an unknown command, a note for old buttons."""

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        return message.kind != MessageKind.TEXT or message.command is not None

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        if message.kind in (MessageKind.UNSUPPORTED, MessageKind.CONTACT):
            return Turn((Reply(texts.UNSUPPORTED_HINT),))
        if message.kind == MessageKind.CHOICE:
            # Buttons outlive the bot's versions; forged ones end here too.
            return Turn((Reply(texts.UNKNOWN_CHOICE),))
        return Turn((Reply(texts.HELP),))
