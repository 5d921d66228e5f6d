"""What every dialogue flow provides: say "mine" or pass, handle what is its own, tidy on a pass.

The dialogue offers each message to its flows in list order (`handlers/flows.py` writes the
order); the first that says "mine" answers. Flows hold no per-person state: it is all in the
`ConversationState` they are handed.
"""

from __future__ import annotations

from handlers.messages import IncomingMessage, Reply, Turn
from handlers.state import ConversationState


class Flow:
    """One feature's share of the dialogue."""

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        """Whether this flow answers the message; must not change the state."""
        raise NotImplementedError

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        """The replies to a message this flow said was its own."""
        raise NotImplementedError

    def passed(self, message: IncomingMessage, state: ConversationState) -> Reply | None:
        """A later flow takes the message: drop what it ends here; a notice to show first."""
        return None
