"""Job postings by consent: /jobs (or 找工作) asks districts, trades and a minimum pay with
buttons, remembers them, shows the best current postings at once and lets the bot push new ones
once a day. /jobs off (and /forget) remove the preferences; every posting can be reported."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from handlers import texts, words
from handlers.cases import DISTRICTS
from handlers.flow import Flow
from handlers.job_board import OPEN, PAYLOAD_PREFIX, REPORT, JobBoard, posting_detail, posting_list
from handlers.job_draft import JobDraft, JobStep
from handlers.messages import Choice, IncomingMessage, MessageKind, Reply, Turn
from handlers.state import ConversationState
from knowledge.jobs import JobPreferences, JobTables

COMMAND = "jobs"
OFF = "off"
NEXT = "next"
START = "start"
# Monthly minimums offered as buttons (0: any pay).
PAY_STEPS = (0, 3000, 4000, 5000, 6000, 8000)
SHOWN_AT_ONCE = 5


def districts_in(text: str) -> list[str]:
    """Every Tianjin district a typed text names (西青 津南, 塘沽 → 滨海新区)."""
    word = words.bare_word(text)
    found = [d for alias, d in words.DISTRICT_ALIASES.items() if alias in word]
    for district in DISTRICTS:
        stem = district
        for suffix in words.DISTRICT_SUFFIXES:
            stem = stem.removesuffix(suffix)
        if stem in word:
            found.append(district)
    return list(dict.fromkeys(found))


def summary(wanted: JobPreferences) -> str:
    join = texts.LIST_SEPARATOR.join
    pay = (
        texts.JOBS_PAY_SUMMARY.format(amount=wanted.min_monthly_pay)
        if wanted.min_monthly_pay
        else texts.JOBS_ANY
    )
    return texts.JOBS_SUMMARY.format(
        districts=join(wanted.districts) or texts.JOBS_ANY,
        trades=join(wanted.trades) or texts.JOBS_ANY,
        pay=pay,
    )


def _payload(*parts: str | int) -> str:
    return PAYLOAD_PREFIX + ":".join(str(part) for part in parts)


def start_choice() -> Choice:
    """The entry button (in the 找工作·创业 topic)."""
    return Choice(texts.JOBS_START_LABEL, _payload(START))


class JobsFlow(Flow):
    """/jobs, 找工作, the preference steps, a posting's details and its report button."""

    def __init__(
        self,
        board: JobBoard,
        tables: JobTables,
        *,
        to_simplified: Callable[[str], str],
        push_channels: frozenset[str],
        digest_hour: int,
        digest_limit: int,
    ) -> None:
        self._board = board
        self._tables = tables
        self._to_simplified = to_simplified
        # Where the bot can send digests later; elsewhere /jobs only shows what is there now.
        self._push_channels = push_channels
        self._hour = digest_hour
        self._limit = digest_limit

    # ------------------------------------------------------------------ which messages

    def _word(self, message: IncomingMessage) -> str:
        return words.plain_word(message.text, self._to_simplified)

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        if message.kind == MessageKind.CHOICE:
            return message.text.startswith(PAYLOAD_PREFIX)
        if message.kind != MessageKind.TEXT:
            return False
        command = message.command
        if command is not None:
            return command.name == COMMAND
        word = self._word(message)
        if word in words.JOBS_WORDS or word in words.JOBS_OFF_WORDS:
            return True
        return state.jobs is not None and self._answers_step(message, state.jobs)

    def _answers_step(self, message: IncomingMessage, draft: JobDraft) -> bool:
        word = words.bare_word(self._to_simplified(message.text))
        if word in words.CANCEL_WORDS or word in words.JOBS_NEXT_WORDS:
            return True
        if draft.step == JobStep.CONSENT:
            return word in words.YES_WORDS or word in words.NO_WORDS
        if draft.step == JobStep.DISTRICTS:
            return bool(districts_in(message.text)) or word in words.JOBS_ANY_WORDS
        if draft.step == JobStep.TRADES:
            found = self._tables.trades_in(self._to_simplified(message.text))
            return bool(found) or word in words.JOBS_ANY_WORDS
        return word.isdigit() or word in words.JOBS_ANY_WORDS

    def passed(self, message: IncomingMessage, state: ConversationState) -> Reply | None:
        state.jobs = None  # another feature took over: the half-chosen wishes are dropped
        return None

    # ------------------------------------------------------------------ answers

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        return Turn(tuple(await self._answer(message, state)))

    async def _answer(self, message: IncomingMessage, state: ConversationState) -> list[Reply]:
        if message.kind == MessageKind.CHOICE:
            return await self._pressed(message, state, message.text.removeprefix(PAYLOAD_PREFIX))
        command = message.command
        word = self._word(message)
        if (command is not None and (command.argument or "").strip().lower() == OFF) or (
            word in words.JOBS_OFF_WORDS
        ):
            state.jobs = None
            return [await self._stop(message)]
        if command is not None or word in words.JOBS_WORDS:
            return await self._open(message, state)
        assert state.jobs is not None
        return await self._typed(message, state, state.jobs)

    async def _open(self, message: IncomingMessage, state: ConversationState) -> list[Reply]:
        """/jobs: the current wishes and matches, or the consent question when none are set."""
        wanted = await self._board.preferences_of(message.user_key)
        if wanted is None:
            state.jobs = JobDraft()
            return [self._ask(state.jobs)]
        state.jobs = None
        current = Reply(
            texts.JOBS_CURRENT.format(summary=summary(wanted)),
            (
                Choice(texts.JOBS_CHANGE_LABEL, _payload(START, "change")),
                Choice(texts.JOBS_STOP_LABEL, _payload(OFF)),
            ),
        )
        return [current, await self._matches(message.user_key, wanted)]

    async def _pressed(
        self, message: IncomingMessage, state: ConversationState, payload: str
    ) -> list[Reply]:
        action, _, value = payload.partition(":")
        if action in (OPEN, REPORT) and value.isdigit():
            return [await self._posting(message.user_key, action, int(value))]
        if action == OFF:
            state.jobs = None
            return [await self._stop(message)]
        if action == START:
            state.jobs = JobDraft(JobStep.DISTRICTS if value == "change" else JobStep.CONSENT)
            return [self._ask(state.jobs)]
        draft = state.jobs
        if draft is None:
            return [Reply(texts.UNKNOWN_CHOICE)]
        if action == "yes" and draft.step == JobStep.CONSENT:
            return self._advance(draft, JobStep.DISTRICTS)
        if action == "no":
            state.jobs = None
            return [Reply(texts.JOBS_DECLINED)]
        if action == NEXT:
            return await self._next(message, state, draft)
        if action == "d" and value.isdigit() and int(value) < len(DISTRICTS):
            return self._toggle(draft, draft.districts, [DISTRICTS[int(value)]])
        trades = tuple(self._tables.trades)
        if action == "t" and value.isdigit() and int(value) < len(trades):
            return self._toggle(draft, draft.trades, [trades[int(value)]])
        if action == "p" and value.isdigit() and draft.step == JobStep.PAY:
            return await self._finish(message, state, draft, int(value))
        return [self._ask(draft, hint=True)]

    async def _typed(
        self, message: IncomingMessage, state: ConversationState, draft: JobDraft
    ) -> list[Reply]:
        word = words.bare_word(self._to_simplified(message.text))
        if word in words.CANCEL_WORDS:
            state.jobs = None
            return [Reply(texts.JOBS_CANCELLED)]
        if draft.step == JobStep.CONSENT:
            if word in words.YES_WORDS:
                return self._advance(draft, JobStep.DISTRICTS)
            state.jobs = None
            return [Reply(texts.JOBS_DECLINED)]
        if word in words.JOBS_NEXT_WORDS or (
            word in words.JOBS_ANY_WORDS and draft.step != JobStep.PAY
        ):
            return await self._next(message, state, draft)
        if draft.step == JobStep.DISTRICTS:
            return self._toggle(draft, draft.districts, districts_in(message.text), add_only=True)
        if draft.step == JobStep.TRADES:
            found = list(self._tables.trades_in(self._to_simplified(message.text)))
            return self._toggle(draft, draft.trades, found, add_only=True)
        amount = int(word) if word.isdigit() else 0
        return await self._finish(message, state, draft, amount)

    # ------------------------------------------------------------------ steps

    def _advance(self, draft: JobDraft, step: JobStep) -> list[Reply]:
        draft.step = step
        return [self._ask(draft)]

    def _toggle(
        self, draft: JobDraft, chosen: list[str], picked: Sequence[str], *, add_only: bool = False
    ) -> list[Reply]:
        for item in picked:
            if item in chosen and not add_only:
                chosen.remove(item)
            elif item not in chosen:
                chosen.append(item)
        labels = texts.LIST_SEPARATOR.join(chosen) or texts.JOBS_ANY
        return [Reply(texts.JOBS_CHOSEN.format(labels=labels), self._ask(draft).choices)]

    async def _next(
        self, message: IncomingMessage, state: ConversationState, draft: JobDraft
    ) -> list[Reply]:
        if draft.step == JobStep.DISTRICTS:
            return self._advance(draft, JobStep.TRADES)
        if draft.step == JobStep.TRADES:
            return self._advance(draft, JobStep.PAY)
        if draft.step == JobStep.PAY:
            return await self._finish(message, state, draft, 0)
        return [self._ask(draft, hint=True)]

    def _ask(self, draft: JobDraft, *, hint: bool = False) -> Reply:
        next_choice = Choice(texts.JOBS_NEXT_LABEL, _payload(NEXT))
        if draft.step == JobStep.CONSENT:
            text = texts.JOBS_INTRO.format(hour=self._hour, limit=self._limit)
            choices: tuple[Choice, ...] = (
                Choice(texts.JOBS_YES_LABEL, _payload("yes")),
                Choice(texts.JOBS_NO_LABEL, _payload("no")),
            )
        elif draft.step == JobStep.DISTRICTS:
            text = texts.JOBS_ASK_DISTRICTS
            choices = (
                *(Choice(name, _payload("d", i)) for i, name in enumerate(DISTRICTS)),
                next_choice,
            )
        elif draft.step == JobStep.TRADES:
            text = texts.JOBS_ASK_TRADES
            choices = (
                *(Choice(name, _payload("t", i)) for i, name in enumerate(self._tables.trades)),
                next_choice,
            )
        else:
            text = texts.JOBS_ASK_PAY
            choices = tuple(
                Choice(
                    texts.JOBS_PAY_LABEL.format(amount=amount) if amount else texts.JOBS_ANY,
                    _payload("p", amount),
                )
                for amount in PAY_STEPS
            )
        return Reply(texts.JOBS_HINT if hint else text, choices)

    async def _finish(
        self, message: IncomingMessage, state: ConversationState, draft: JobDraft, amount: int
    ) -> list[Reply]:
        state.jobs = None
        wanted = JobPreferences(tuple(draft.districts), tuple(draft.trades), max(amount, 0))
        pushes = message.channel in self._push_channels and message.address is not None
        await self._board.save_preferences(
            message.user_key,
            message.channel,
            address=message.address if pushes else None,
            wanted=wanted,
        )
        template = texts.JOBS_SAVED if pushes else texts.JOBS_SAVED_NO_PUSH
        saved = Reply(template.format(summary=summary(wanted), hour=self._hour, limit=self._limit))
        return [saved, await self._matches(message.user_key, wanted)]

    async def _matches(self, user_key: str, wanted: JobPreferences) -> Reply:
        found = await self._board.best_matches(user_key, wanted, limit=SHOWN_AT_ONCE)
        if not found:
            return Reply(texts.JOBS_NO_MATCHES)
        return posting_list(texts.JOBS_MATCHES_HEADER, found)

    async def _posting(self, user_key: str, action: str, posting_id: int) -> Reply:
        if action == REPORT:
            reported = await self._board.report_posting(user_key, posting_id)
            return Reply(texts.JOBS_REPORTED if reported else texts.JOBS_GONE)
        view = await self._board.open_posting(user_key, posting_id)
        return posting_detail(view) if view is not None else Reply(texts.JOBS_GONE)

    async def _stop(self, message: IncomingMessage) -> Reply:
        removed = await self._board.remove_preferences(message.user_key)
        return Reply(texts.JOBS_STOPPED if removed else texts.JOBS_NOT_SET)

    async def before(self, message: IncomingMessage) -> tuple[Reply, ...]:
        """Digests kept for the person (WeChat outside its window), shown before the answer."""
        if message.channel not in self._push_channels:  # nothing is ever held for them
            return ()
        return tuple(await self._board.held_digests(message))
