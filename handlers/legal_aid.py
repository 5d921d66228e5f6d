"""The legal-aid referral: a worker's own dispute becomes a case for union legal-aid staff.

consent → category → district → phone → employer (may skip) → description → confirm. The draft
lives in the conversation state (the database), so a restart or another process continues it;
取消 ends it at any step, and a draft left alone longer than the timeout is dropped. The case is
committed (with its staff card queued and the draft's end) before the worker is told its number.

Every step is idempotent, because a worker re-sends what got no answer (a crash, a timeout): a
button carries the step it was shown for (`la:district:3`) and counts only at that step; a typed
answer identical to the one that moved the draft on is that answer again; a re-sent 确认提交
answers with the number of the case it already made.

Two flows: `LegalAidFlow` answers while a draft is under way (first in the list, so typed
answers are not taken for questions); `LegalAidEntry` starts it from a word, command or button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from handlers import texts, words
from handlers.answers import LEGAL_AID_PAYLOAD, TOPIC_PAYLOAD_PREFIX
from handlers.cases import CATEGORIES, CONSENT_VERSION, DISTRICTS, CaseDesk, CaseDraft, CaseView
from handlers.draft import ReferralDraft, Step, SubmittedReferral, answer_digest
from handlers.flow import Flow
from handlers.messages import IncomingMessage, MessageKind, Reply, Turn
from handlers.payloads import parse_id
from handlers.phone import mainland_mobile
from handlers.referral_prompts import (
    CANCEL,
    MAX_DESCRIPTION_CHARS,
    MAX_EMPLOYER_CHARS,
    MIN_DESCRIPTION_CHARS,
    PAYLOAD_PREFIX,
    SUBMIT,
    read_button,
    step_prompt,
)
from handlers.state import ConversationState, Script, StoredState

# The conversation-state key the draft is stored under (the bot's retention purge reads it).
DRAFT_KEY = "legal_aid"
# Buttons that start the referral: the answers' 找法律援助 and the menu's 法律援助 topic.
ENTRY_PAYLOADS = frozenset({LEGAL_AID_PAYLOAD, TOPIC_PAYLOAD_PREFIX + "legal"})
ENTRY_COMMAND = "legalaid"
# Commands that leave a draft alone: /legalaid resumes it, /mycase only looks.
KEEPS_DRAFT = frozenset({ENTRY_COMMAND, "mycase"})


def _category_of(text: str) -> str | None:
    word = words.bare_word(text)
    for key, label in CATEGORIES.items():
        if word == words.bare_word(label) or word == key:
            return key
    for key, keywords in words.CATEGORY_KEYWORDS:
        if any(keyword in word for keyword in keywords):
            return key
    return None


def _district_of(text: str) -> str | None:
    word = words.bare_word(text)
    if not word:
        return None
    for alias, district in words.DISTRICT_ALIASES.items():
        if alias in word:
            return district
    for district in DISTRICTS:
        stem = district
        for suffix in words.DISTRICT_SUFFIXES:
            stem = stem.removesuffix(suffix)
        if district in word or word == stem or word.startswith(stem) or word.endswith(stem):
            return district
    return None


class LegalAidFlow(Flow):
    """The worker's side of the referral while a draft is under way; holds no per-person state."""

    def __init__(
        self,
        desk: CaseDesk,
        *,
        timeout: timedelta,
        retention_days: int,
        to_simplified: Callable[[str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._desk = desk
        self._timeout = timeout
        self._retention_days = retention_days
        self._to_simplified = to_simplified
        self._clock = clock

    @property
    def desk(self) -> CaseDesk:
        """The case desk the referral fills (privacy acts on the same one)."""
        return self._desk

    # ------------------------------------------------------------------ the flow

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        if not self._is_live(state.legal_aid):
            return self._is_resubmit(message, state)
        command = message.command
        if command is not None:
            return command.name == ENTRY_COMMAND
        # Buttons of other flows (an older answer's, the menu's) still go to those flows; a
        # malformed legal-aid one re-asks the step.
        return message.kind != MessageKind.CHOICE or message.text.startswith(PAYLOAD_PREFIX)

    def passed(self, message: IncomingMessage, state: ConversationState) -> Reply | None:
        """An abandoned draft is dropped; so is one another command took over from."""
        if state.legal_aid is None:
            return None
        if not self._is_live(state.legal_aid):
            state.legal_aid = None
            return Reply(texts.FLOW_EXPIRED)
        command = message.command
        if command is None or command.name in KEEPS_DRAFT:
            return None
        # The draft holds personal data: leaving it means it goes.
        state.legal_aid = None
        return Reply(texts.FLOW_LEFT)

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        """One message while the draft is under way (typed text, a button, a shared contact)."""
        draft = state.legal_aid
        if draft is None or not self._is_live(draft):
            assert state.submitted is not None  # is_mine said so: a re-sent submit
            return Turn((self._submitted_reply(state.submitted.number, message),))
        if message.command is not None:
            return Turn((self.start(state),))
        draft.at = self._clock()
        raw = message.text.strip()
        if message.kind == MessageKind.CHOICE:
            button = read_button(message.payload)
            if button is None:
                return Turn((self._ask(draft),))
            if button.value == CANCEL and button.step is None:
                state.legal_aid = None
                return Turn((Reply(texts.FLOW_CANCELLED),))
            if button.step != draft.step:  # re-sent, or an old prompt's button
                return Turn((self._ask(draft, hint=texts.HINT_STEP_DONE),))
            value = button.value
        else:
            value = self._to_simplified(raw)
            if words.bare_word(value) in words.CANCEL_WORDS:
                state.legal_aid = None
                return Turn((Reply(texts.FLOW_CANCELLED),))
            if draft.is_resent(raw):
                return Turn((self._ask(draft, hint=texts.HINT_STEP_DONE),))
        step = draft.step
        replies = await self._on_step(message, raw, value, state, draft)
        if state.legal_aid is draft and draft.step != step:
            # Moved on: remember what moved it, so the same text again is known for a re-send.
            draft.last_answer = answer_digest(raw) if message.kind != MessageKind.CHOICE else None
        return Turn(replies if isinstance(replies, tuple) else (replies,))

    def start(self, state: ConversationState) -> Reply:
        """The intro with the privacy notice; a draft already under way resumes where it was."""
        draft = state.legal_aid
        if draft is None or draft.step == Step.CONSENT:
            draft = ReferralDraft()
            state.legal_aid = draft
        state.submitted = None
        draft.at = self._clock()
        return self._ask(draft)

    def _is_live(self, draft: ReferralDraft | None) -> bool:
        if draft is None:
            return False
        return draft.at is not None and self._clock() - draft.at <= self._timeout

    def _is_resubmit(self, message: IncomingMessage, state: ConversationState) -> bool:
        """确认提交 again (no draft under way) shortly after a referral was submitted."""
        submitted = state.submitted
        if submitted is None or self._clock() - submitted.at > self._timeout:
            return False
        if message.kind == MessageKind.CHOICE:
            button = read_button(message.payload)
            return button is not None and (button.step, button.value) == (Step.CONFIRM, SUBMIT)
        if message.kind != MessageKind.TEXT or message.command is not None:
            return False
        return words.bare_word(self._to_simplified(message.text)) in words.SUBMIT_WORDS

    @staticmethod
    def _submitted_reply(number: str, message: IncomingMessage) -> Reply:
        # Progress notices need an address to reach the worker (the terminal chat has none).
        template = texts.SUBMITTED if message.address else texts.SUBMITTED_NO_NOTICES
        return Reply(template.format(number=number))

    # ------------------------------------------------------------------ steps

    async def _on_step(
        self,
        message: IncomingMessage,
        raw: str,
        value: str,
        state: ConversationState,
        draft: ReferralDraft,
    ) -> Reply | tuple[Reply, ...]:
        step = draft.step
        if message.kind == MessageKind.CONTACT and step != Step.PHONE:
            return self._ask(draft)
        if step == Step.CONSENT:
            return self._on_consent(value, draft, state)
        if step == Step.CATEGORY:
            return self._on_category(value, message.kind, draft)
        if step == Step.DISTRICT:
            return self._on_district(value, message.kind, draft)
        if step == Step.PHONE:
            return self._on_phone(raw, message.kind, draft)
        if step == Step.EMPLOYER:
            return self._on_employer(raw, value, message.kind, draft)
        if step == Step.DESCRIPTION:
            return self._on_description(raw, draft)
        return await self._on_confirm(value, message, draft, state)

    def _on_consent(self, value: str, draft: ReferralDraft, state: ConversationState) -> Reply:
        word = words.bare_word(value)
        if word in words.YES_WORDS:
            draft.consent_at = self._clock()
            draft.consent_version = CONSENT_VERSION
            return self._advance(draft, Step.CATEGORY)
        if word in words.NO_WORDS:
            state.legal_aid = None
            return Reply(texts.CONSENT_DECLINED)
        return self._ask(draft, hint=texts.HINT_CONSENT)

    def _on_category(self, value: str, kind: MessageKind, draft: ReferralDraft) -> Reply:
        key = value if kind == MessageKind.CHOICE else _category_of(value)
        if key not in CATEGORIES:
            return self._ask(draft, hint=texts.HINT_CATEGORY)
        draft.category = key
        return self._advance(draft, Step.DISTRICT)

    def _on_district(self, value: str, kind: MessageKind, draft: ReferralDraft) -> Reply:
        if kind == MessageKind.CHOICE:
            index = parse_id(value)
            district = DISTRICTS[index] if index is not None and index < len(DISTRICTS) else None
        else:
            district = _district_of(value)
        if district is None:
            return self._ask(draft, hint=texts.HINT_DISTRICT)
        draft.district = district
        return self._advance(draft, Step.PHONE)

    def _on_phone(
        self, raw: str, kind: MessageKind, draft: ReferralDraft
    ) -> Reply | tuple[Reply, ...]:
        phone = mainland_mobile(raw)
        if phone is None:
            foreign = kind == MessageKind.CONTACT
            return self._ask(draft, hint=texts.HINT_PHONE_FOREIGN if foreign else texts.HINT_PHONE)
        draft.phone = phone
        received = Reply(texts.PHONE_RECEIVED.format(phone=phone), hides_keyboard=True)
        return received, self._advance(draft, Step.EMPLOYER)

    def _on_employer(self, raw: str, value: str, kind: MessageKind, draft: ReferralDraft) -> Reply:
        skipped = kind == MessageKind.CHOICE and value == "skip"
        if skipped or words.bare_word(value) in words.SKIP_WORDS:
            draft.employer = None
        elif kind == MessageKind.CHOICE or not raw:
            return self._ask(draft)
        elif len(raw) > MAX_EMPLOYER_CHARS:
            return self._ask(draft, hint=texts.HINT_EMPLOYER.format(max_chars=MAX_EMPLOYER_CHARS))
        else:
            draft.employer = raw
        return self._advance(draft, Step.DESCRIPTION)

    def _on_description(self, raw: str, draft: ReferralDraft) -> Reply:
        if len(words.without_punctuation(raw)) < MIN_DESCRIPTION_CHARS:
            return self._ask(draft, hint=texts.HINT_DESCRIPTION_SHORT)
        if len(raw) > MAX_DESCRIPTION_CHARS:
            hint = texts.HINT_DESCRIPTION_LONG.format(
                length=len(raw), max_chars=MAX_DESCRIPTION_CHARS
            )
            return self._ask(draft, hint=hint)
        draft.description = raw
        return self._advance(draft, Step.CONFIRM)

    async def _on_confirm(
        self,
        value: str,
        message: IncomingMessage,
        draft: ReferralDraft,
        state: ConversationState,
    ) -> Reply:
        if words.bare_word(value) not in words.SUBMIT_WORDS:
            return self._ask(draft, hint=texts.HINT_CONFIRM)
        missing = draft.missing_step()
        if missing is not None:
            return self._advance(draft, missing)
        # missing_step() checked every one of these.
        assert draft.category and draft.district and draft.phone and draft.description
        assert draft.consent_at and draft.consent_version
        submitted_at = self._clock()

        def state_after(case: CaseView) -> StoredState:
            """The state committed with the case: the draft gone, the case's number kept."""
            submitted = SubmittedReferral(case.number, submitted_at)
            return replace(state, legal_aid=None, submitted=submitted).to_json()

        case = await self._desk.submit(
            CaseDraft(
                user_key=message.user_key,
                channel=message.channel,
                address=message.address,
                category=draft.category,
                district=draft.district,
                phone=draft.phone,
                employer=draft.employer,
                description=draft.description,
                consent_at=draft.consent_at,
                consent_version=draft.consent_version,
                traditional=state.script == Script.TRADITIONAL,
            ),
            state_after=state_after,
        )
        # Committed: only now does the draft go and the worker hear the number.
        state.legal_aid = None
        state.submitted = SubmittedReferral(case.number, submitted_at)
        return self._submitted_reply(case.number, message)

    # ------------------------------------------------------------------ prompts

    def _advance(self, draft: ReferralDraft, step: Step) -> Reply:
        draft.step = step
        return self._ask(draft)

    def _ask(self, draft: ReferralDraft, *, hint: str | None = None) -> Reply:
        """The current step's question (after a hint when the last answer didn't fit)."""
        return step_prompt(draft, retention_days=self._retention_days, hint=hint)


class LegalAidEntry(Flow):
    """法律援助 / 找律师, /legalaid and the legal-aid buttons: the referral where there is a case
    desk, the ways to reach legal aid (information only) where there is none."""

    def __init__(self, referral: LegalAidFlow | None, *, to_simplified: Callable[[str], str]):
        self._referral = referral
        self._to_simplified = to_simplified

    def is_mine(self, message: IncomingMessage, state: ConversationState) -> bool:
        if message.kind == MessageKind.CHOICE:
            return message.text in ENTRY_PAYLOADS
        command = message.command
        if command is not None:
            return command.name == ENTRY_COMMAND
        return (
            message.kind == MessageKind.TEXT
            and words.plain_word(message.text, self._to_simplified) in words.LEGAL_AID_WORDS
        )

    async def handle(self, message: IncomingMessage, state: ConversationState) -> Turn:
        if self._referral is None:
            return Turn((Reply(texts.LEGAL_AID_INFO),))
        return Turn((self._referral.start(state),))
