"""A person's own data: /mycase lists their legal-aid cases, /forget deletes what is kept on them.

/forget asks first; only 确认删除 (or its button) right after the prompt deletes. Anything else
typed after the prompt passes on and withdraws the question.
"""

from __future__ import annotations

from collections.abc import Callable

from handlers import texts, words
from handlers.cases import BEIJING, CATEGORIES, CaseDesk
from handlers.flow import Flow
from handlers.messages import Choice, IncomingMessage, MessageKind, Reply, Turn
from handlers.state import ConversationState

FORGET_KIND = "forget"
FORGET_PREFIX = FORGET_KIND + ":"
# The conversation-state key the pending confirmation is stored under.
FORGET_KEY = "forget_asked"
FORGET_COMMAND = "forget"
MY_CASES_COMMAND = "mycase"


class PrivacyFlow(Flow):
    """/mycase, /forget and its confirmation, on the case desk that holds the person's data."""

    def __init__(self, desk: CaseDesk, *, to_simplified: Callable[[str], str]) -> None:
        self._desk = desk
        self._to_simplified = to_simplified

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        command = message.command
        if command is not None:
            return command.name in (FORGET_COMMAND, MY_CASES_COMMAND)
        return self._is_forget_answer(message, state)

    def passed(self, message: IncomingMessage, state: ConversationState) -> Reply | None:
        # The prompt was answered with something else: a later 确认删除 must not delete.
        state.forget_asked = False
        return None

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        command = message.command
        if command is not None and command.name == MY_CASES_COMMAND:
            state.forget_asked = False
            return Turn((await self._my_cases(message.user_key),))
        if command is not None:
            return Turn((self._ask_forget(state),))
        return Turn((await self._answer_forget(message, state),))

    def _is_forget_answer(self, message: IncomingMessage, state: ConversationState) -> bool:
        if message.kind == MessageKind.CHOICE:
            payload = message.payload
            return payload is not None and payload.kind == FORGET_KIND
        return state.forget_asked and self._word(message.text) in (
            texts.FORGET_CONFIRM_LABEL,
            texts.FORGET_KEEP_LABEL,
            *words.CANCEL_WORDS,
        )

    def _word(self, text: str) -> str:
        return words.bare_word(self._to_simplified(text))

    async def _my_cases(self, user_key: str) -> Reply:
        cases = await self._desk.cases_of(user_key)
        if not cases:
            return Reply(texts.NO_CASES)
        lines = [texts.MY_CASES_HEADER]
        for case in cases:
            created = case.created_at.astimezone(BEIJING)
            lines.append(
                texts.MY_CASE_LINE.format(
                    number=case.number,
                    category=CATEGORIES.get(case.category, case.category),
                    status=texts.STATUS_LABELS[case.status.value],
                    month=created.month,
                    day=created.day,
                )
            )
        return Reply("\n".join(lines))

    @staticmethod
    def _ask_forget(state: ConversationState) -> Reply:
        state.forget_asked = True
        return Reply(
            texts.FORGET_PROMPT,
            (
                Choice(texts.FORGET_CONFIRM_LABEL, FORGET_PREFIX + "yes"),
                Choice(texts.FORGET_KEEP_LABEL, FORGET_PREFIX + "no"),
            ),
        )

    async def _answer_forget(self, message: IncomingMessage, state: ConversationState) -> Reply:
        """Delete on 确认删除 (only right after the prompt); anything else keeps everything."""
        asked = state.forget_asked
        state.forget_asked = False
        payload = message.payload
        pressed_yes = payload is not None and payload.fields == ("yes",)
        confirmed = pressed_yes or self._word(message.text) == texts.FORGET_CONFIRM_LABEL
        if not (asked and confirmed):
            return Reply(texts.FORGET_KEPT if asked else texts.UNKNOWN_CHOICE)
        count = await self._desk.forget(message.user_key)
        state.clear()
        return Reply(texts.FORGOTTEN_CASES.format(count=count) if count else texts.FORGOTTEN)
