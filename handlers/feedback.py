"""有用/没用 on an answer: stored with the question; the text is kept only for 没用, for review."""

from __future__ import annotations

from typing import Any

from handlers import texts
from handlers.messages import Choice, Reply
from handlers.state import DialogueStore

FEEDBACK_PREFIX = "fb:"
# The last question's text waits in the conversation state until feedback or the next question.
LAST_QUESTION_KEY = "last_question"


def feedback_choices(question_id: int) -> tuple[Choice, Choice]:
    return (
        Choice(texts.USEFUL_LABEL, f"{FEEDBACK_PREFIX}{question_id}:1"),
        Choice(texts.NOT_USEFUL_LABEL, f"{FEEDBACK_PREFIX}{question_id}:0"),
    )


def remember_question(state: dict[str, Any], question_id: int, text: str) -> None:
    state[LAST_QUESTION_KEY] = {"id": question_id, "text": text}


async def record_feedback(
    store: DialogueStore, user_key: str, payload: str, state: dict[str, Any]
) -> Reply:
    """Handle `fb:<question id>:<1|0>`."""
    question_part, _, verdict = payload.removeprefix(FEEDBACK_PREFIX).partition(":")
    if not question_part.isdigit() or verdict not in ("0", "1"):
        return Reply(texts.UNKNOWN_CHOICE)
    question_id, useful = int(question_part), verdict == "1"
    last = state.get(LAST_QUESTION_KEY) or {}
    text = last.get("text") if last.get("id") == question_id and not useful else None
    if last.get("id") == question_id:
        state.pop(LAST_QUESTION_KEY, None)
    stored = await store.record_feedback(question_id, user_key, useful=useful, text=text)
    if not stored:
        return Reply(texts.FEEDBACK_GONE)
    return Reply(texts.THANKS_USEFUL if useful else texts.THANKS_NOT_USEFUL)
