"""有用/没用 on an answer: stored with the question; the text is kept only for 没用, for review."""

from __future__ import annotations

from handlers import texts
from handlers.flow import Flow
from handlers.messages import Choice, IncomingMessage, Reply, Turn
from handlers.state import ConversationState, DialogueStore, LastQuestion

FEEDBACK_KIND = "fb"
FEEDBACK_PREFIX = FEEDBACK_KIND + ":"


def feedback_choices(question_id: int) -> tuple[Choice, Choice]:
    return (
        Choice(texts.USEFUL_LABEL, f"{FEEDBACK_PREFIX}{question_id}:1"),
        Choice(texts.NOT_USEFUL_LABEL, f"{FEEDBACK_PREFIX}{question_id}:0"),
    )


def remember_question(state: ConversationState, question_id: int, text: str) -> None:
    """The text waits in the state until its feedback or the next question."""
    state.last_question = LastQuestion(question_id, text)


class FeedbackFlow(Flow):
    """The `fb:<question id>:<1|0>` buttons under an answer."""

    def __init__(self, store: DialogueStore) -> None:
        self._store = store

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        payload = message.payload
        return payload is not None and payload.kind == FEEDBACK_KIND

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        return Turn((await self._record(message, state),))

    async def _record(self, message: IncomingMessage, state: ConversationState) -> Reply:
        payload = message.payload
        assert payload is not None  # is_mine said so
        question_id, verdict = payload.id_at(0), payload.field(1)
        if question_id is None or verdict not in ("0", "1") or len(payload.fields) != 2:
            return Reply(texts.UNKNOWN_CHOICE)
        useful = verdict == "1"
        last = state.last_question
        is_last = last is not None and last.id == question_id
        text = last.text if last is not None and is_last and not useful else None
        if is_last:
            state.last_question = None
        stored = await self._store.record_feedback(
            question_id, message.user_key, useful=useful, text=text
        )
        if not stored:
            return Reply(texts.FEEDBACK_GONE)
        return Reply(texts.THANKS_USEFUL if useful else texts.THANKS_NOT_USEFUL)
