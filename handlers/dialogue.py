"""The channel-agnostic dialogue: offer one neutral message to the flows in order, return replies.

The flows and their order come from `handlers/flows.py`. State (the person's script, the last
question awaiting feedback, a legal-aid draft) is loaded and saved through the store, so another
process or channel continues the same conversation; each message is one store turn, so what it
changes is saved together and one person's messages never interleave.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from handlers.flow import Flow
from handlers.messages import IncomingMessage, MessageKind, Reply, Turn
from handlers.state import ConversationState, DialogueStore, Script
from knowledge.normalizer import ScriptConverter


class Prelude(Protocol):
    """Something shown before any flow's answer (e.g. a job digest WeChat could not push)."""

    async def before(self, message: IncomingMessage) -> tuple[Reply, ...]: ...


class Dialogue:
    """One instance per process, shared by every channel; holds no per-person state itself."""

    def __init__(
        self,
        flows: Sequence[Flow],
        store: DialogueStore,
        *,
        converter: ScriptConverter,
        preludes: Sequence[Prelude] = (),
    ) -> None:
        if not flows:
            raise ValueError("a dialogue needs at least one flow")
        self._flows = tuple(flows)
        self._store = store
        self._converter = converter
        self._preludes = tuple(preludes)

    async def handle(self, message: IncomingMessage) -> Turn:
        # Whatever the channel let through, nothing unstorable (a NUL) reaches a flow or a row.
        message = message.storable()
        # One turn: the person's lock (across processes) and one transaction for all it stores.
        async with self._store.turn(message.user_key):
            turn = await self._handle(message)
        return turn

    def turn(self, user_key: str) -> AbstractAsyncContextManager[None]:
        """The person's turn on the store: a channel's own rows stored inside it commit with the
        dialogue's, and `handle` inside it joins it."""
        return self._store.turn(user_key)

    async def _handle(self, message: IncomingMessage) -> Turn:
        loaded = ConversationState.from_json(await self._store.load_state(message.user_key))
        # A deep copy: flows change nested values, and `state != loaded` decides the save.
        state = copy.deepcopy(loaded)
        if not state.known:
            await self._store.touch_user(
                message.user_key, message.channel, language=message.language, source=None
            )
            state.known = True
        if message.kind == MessageKind.TEXT and self._converter.is_traditional(message.text):
            state.script = Script.TRADITIONAL
        turn = await self._offer(message, state)
        if self._preludes:
            first = [reply for prelude in self._preludes for reply in await prelude.before(message)]
            turn = Turn((*first, *turn.replies), turn.question)
        if state != loaded:
            await self._store.save_state(message.user_key, state.to_json())
        if state.script == Script.TRADITIONAL:
            convert = self._converter.to_traditional
            turn = Turn(tuple(reply.converted(convert) for reply in turn.replies), turn.question)
        return turn

    async def _offer(self, message: IncomingMessage, state: ConversationState) -> Turn:
        """The first flow that says "mine" answers, after the notices of those it passed."""
        notices: list[Reply] = []
        for flow in self._flows:
            if flow.is_mine(message, state):
                turn = await flow.handle(message, state)
                return Turn((*notices, *turn.replies), turn.question)
            notice = flow.passed(message, state)
            if notice is not None:
                notices.append(notice)
        # The last flow (questions) takes everything; reaching here is a wiring mistake.
        raise LookupError(f"no flow took a {message.kind} message")
