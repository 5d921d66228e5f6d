"""The legal-aid referral: a worker's own dispute becomes a case for union legal-aid staff.

consent → category → district → phone → employer (may skip) → description → confirm. The draft
lives in the conversation state (the database), so a restart or another process continues it;
取消 ends it at any step, and a draft left alone longer than the timeout is dropped. The case is
committed (with its staff card queued) before the worker is told its number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers import texts
from handlers.cases import (
    BEIJING,
    CATEGORIES,
    CONSENT_VERSION,
    DISTRICTS,
    CaseDesk,
    CaseDraft,
)
from handlers.messages import Choice, IncomingMessage, MessageKind, Reply
from handlers.phone import mainland_mobile

PAYLOAD_PREFIX = "la:"
FORGET_PREFIX = "forget:"
DRAFT_KEY = "legal_aid"
FORGET_KEY = "forget_asked"
MAX_EMPLOYER_CHARS = 60
MIN_DESCRIPTION_CHARS = 6
MAX_DESCRIPTION_CHARS = 800
SUMMARY_DESCRIPTION_CHARS = 120

CONSENT, CATEGORY, DISTRICT, PHONE, EMPLOYER, DESCRIPTION, CONFIRM = (
    "consent",
    "category",
    "district",
    "phone",
    "employer",
    "description",
    "confirm",
)

_CANCEL_WORDS = frozenset({"取消", "不办了", "算了", "退出", "不填了", "不要了", "cancel"})
_YES_WORDS = frozenset(
    {"同意", "好", "好的", "可以", "是", "行", "嗯", "yes", "ok", "确认", "愿意"}
)
_NO_WORDS = frozenset({"不同意", "不", "不要", "不用", "不行", "no", "拒绝", "不愿意"})
_SKIP_WORDS = frozenset({"跳过", "不知道", "没有", "不想填", "不填", "无", "skip", "不清楚"})
# Each includes its button's payload value (yes, no, submit) beside the words people type.
_SUBMIT_WORDS = frozenset(
    {"确认提交", "提交", "确认", "是", "好", "对", "没问题", "ok", "yes", "submit"}
)
_PUNCTUATION = re.compile(r"[\s!！。.?？~～,，、]+")
# Typed categories: the first keyword found decides (order matters: 工伤 before 合同).
_CATEGORY_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wages", ("欠薪", "工资", "工钱", "欠钱", "拖欠", "讨薪", "薪水", "血汗钱", "结账")),
    ("injury", ("工伤", "受伤", "伤", "摔", "砸", "职业病")),
    ("contract", ("合同", "解除", "辞退", "开除", "炒", "裁员", "赶走", "不让干")),
    ("insurance", ("社保", "保险", "养老", "医保", "公积金")),
    ("other", ("其他", "其它", "别的")),
)
# Older names people still use for parts of today's districts.
_DISTRICT_ALIASES = {"塘沽": "滨海新区", "汉沽": "滨海新区", "大港": "滨海新区", "蓟县": "蓟州区"}


def _word(text: str) -> str:
    return _PUNCTUATION.sub("", text).lower()


def _category_of(text: str) -> str | None:
    word = _word(text)
    for key, label in CATEGORIES.items():
        if word == _word(label) or word == key:
            return key
    for key, keywords in _CATEGORY_KEYWORDS:
        if any(keyword in word for keyword in keywords):
            return key
    return None


def _district_of(text: str) -> str | None:
    word = _word(text)
    if not word:
        return None
    for alias, district in _DISTRICT_ALIASES.items():
        if alias in word:
            return district
    for district in DISTRICTS:
        stem = district.removesuffix("新区").removesuffix("区")
        if district in word or word == stem or word.startswith(stem) or word.endswith(stem):
            return district
    return None


def _cancel_choice() -> Choice:
    return Choice(texts.CANCEL_LABEL, PAYLOAD_PREFIX + "cancel")


class LegalAidFlow:
    """The worker's side of the referral; holds no per-person state itself."""

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

    # ------------------------------------------------------------------ state

    @staticmethod
    def is_active(state: dict[str, Any]) -> bool:
        return isinstance(state.get(DRAFT_KEY), dict)

    def expire(self, state: dict[str, Any]) -> Reply | None:
        """Drop a draft left alone past the timeout; the notice to show, if one was dropped."""
        draft = state.get(DRAFT_KEY)
        if not isinstance(draft, dict):
            return None
        touched = datetime.fromisoformat(draft.get("at", "1970-01-01T00:00:00+00:00"))
        if self._clock() - touched <= self._timeout:
            return None
        del state[DRAFT_KEY]
        return Reply(texts.FLOW_EXPIRED)

    def leave(self, state: dict[str, Any]) -> Reply | None:
        """Another command took over: the draft (and its personal data) goes."""
        if state.pop(DRAFT_KEY, None) is None:
            return None
        return Reply(texts.FLOW_LEFT)

    # ------------------------------------------------------------------ entry and steps

    def start(self, state: dict[str, Any]) -> Reply:
        """The intro with the privacy notice; a draft already under way resumes where it was."""
        draft = state.get(DRAFT_KEY)
        if isinstance(draft, dict) and draft.get("step") != CONSENT:
            self._touch(draft)
            return self._ask(draft)
        draft = {"step": CONSENT}
        self._touch(draft)
        state[DRAFT_KEY] = draft
        return self._ask(draft)

    async def handle(
        self, message: IncomingMessage, state: dict[str, Any]
    ) -> Reply | tuple[Reply, ...]:
        """One message while the flow is active (typed text, a button, a shared contact)."""
        draft: dict[str, Any] = state[DRAFT_KEY]
        self._touch(draft)
        raw = message.text.strip()
        if message.kind == MessageKind.CHOICE:
            value = raw.removeprefix(PAYLOAD_PREFIX)
        else:
            value = self._to_simplified(raw)
        if _word(value) in _CANCEL_WORDS:
            del state[DRAFT_KEY]
            return Reply(texts.FLOW_CANCELLED)
        step = draft.get("step")
        if message.kind == MessageKind.CONTACT and step != PHONE:
            return self._ask(draft)
        if step == CONSENT:
            return self._on_consent(value, draft, state)
        if step == CATEGORY:
            return self._on_category(value, message.kind, draft)
        if step == DISTRICT:
            return self._on_district(value, message.kind, draft)
        if step == PHONE:
            return self._on_phone(raw, message.kind, draft)
        if step == EMPLOYER:
            return self._on_employer(raw, value, message.kind, draft)
        if step == DESCRIPTION:
            return self._on_description(raw, draft)
        return await self._on_confirm(value, message, draft, state)

    def _on_consent(self, value: str, draft: dict[str, Any], state: dict[str, Any]) -> Reply:
        word = _word(value)
        if word in _YES_WORDS:
            draft["consent_at"] = self._clock().isoformat()
            draft["consent_version"] = CONSENT_VERSION
            return self._advance(draft, CATEGORY)
        if word in _NO_WORDS:
            del state[DRAFT_KEY]
            return Reply(texts.CONSENT_DECLINED)
        return self._ask(draft, hint=texts.HINT_CONSENT)

    def _on_category(self, value: str, kind: MessageKind, draft: dict[str, Any]) -> Reply:
        key = value.removeprefix("cat:") if kind == MessageKind.CHOICE else _category_of(value)
        if key not in CATEGORIES:
            return self._ask(draft, hint=texts.HINT_CATEGORY)
        draft["category"] = key
        return self._advance(draft, DISTRICT)

    def _on_district(self, value: str, kind: MessageKind, draft: dict[str, Any]) -> Reply:
        if kind == MessageKind.CHOICE:
            number = value.removeprefix("dist:")
            district = (
                DISTRICTS[int(number)]
                if number.isdigit() and int(number) < len(DISTRICTS)
                else None
            )
        else:
            district = _district_of(value)
        if district is None:
            return self._ask(draft, hint=texts.HINT_DISTRICT)
        draft["district"] = district
        return self._advance(draft, PHONE)

    def _on_phone(
        self, raw: str, kind: MessageKind, draft: dict[str, Any]
    ) -> Reply | tuple[Reply, ...]:
        phone = mainland_mobile(raw)
        if phone is None:
            foreign = kind == MessageKind.CONTACT
            return self._ask(draft, hint=texts.HINT_PHONE_FOREIGN if foreign else texts.HINT_PHONE)
        draft["phone"] = phone
        received = Reply(texts.PHONE_RECEIVED.format(phone=phone), hides_keyboard=True)
        return received, self._advance(draft, EMPLOYER)

    def _on_employer(self, raw: str, value: str, kind: MessageKind, draft: dict[str, Any]) -> Reply:
        if (kind == MessageKind.CHOICE and value == "skip") or _word(value) in _SKIP_WORDS:
            draft["employer"] = None
        elif kind == MessageKind.CHOICE or not raw:
            return self._ask(draft)
        elif len(raw) > MAX_EMPLOYER_CHARS:
            return self._ask(draft, hint=texts.HINT_EMPLOYER.format(max_chars=MAX_EMPLOYER_CHARS))
        else:
            draft["employer"] = raw
        return self._advance(draft, DESCRIPTION)

    def _on_description(self, raw: str, draft: dict[str, Any]) -> Reply:
        length = len(_PUNCTUATION.sub("", raw))
        if length < MIN_DESCRIPTION_CHARS:
            return self._ask(draft, hint=texts.HINT_DESCRIPTION_SHORT)
        if len(raw) > MAX_DESCRIPTION_CHARS:
            hint = texts.HINT_DESCRIPTION_LONG.format(
                length=len(raw), max_chars=MAX_DESCRIPTION_CHARS
            )
            return self._ask(draft, hint=hint)
        draft["description"] = raw
        return self._advance(draft, CONFIRM)

    async def _on_confirm(
        self, value: str, message: IncomingMessage, draft: dict[str, Any], state: dict[str, Any]
    ) -> Reply:
        if _word(value) not in _SUBMIT_WORDS:
            return self._ask(draft, hint=texts.HINT_CONFIRM)
        case = await self._desk.submit(
            CaseDraft(
                user_key=message.user_key,
                channel=message.channel,
                address=message.address,
                category=draft["category"],
                district=draft["district"],
                phone=draft["phone"],
                employer=draft.get("employer"),
                description=draft["description"],
                consent_at=datetime.fromisoformat(draft["consent_at"]),
                consent_version=draft["consent_version"],
                traditional=state.get("script") == "traditional",
            )
        )
        # Committed: only now does the draft go and the worker hear the number.
        del state[DRAFT_KEY]
        # Progress notices need an address to reach the worker (the terminal chat has none).
        template = texts.SUBMITTED if message.address else texts.SUBMITTED_NO_NOTICES
        return Reply(template.format(number=case.number))

    # ------------------------------------------------------------------ prompts

    def _touch(self, draft: dict[str, Any]) -> None:
        draft["at"] = self._clock().isoformat()

    def _advance(self, draft: dict[str, Any], step: str) -> Reply:
        draft["step"] = step
        return self._ask(draft)

    def _ask(self, draft: dict[str, Any], *, hint: str | None = None) -> Reply:
        """The current step's question (after a hint when the last answer didn't fit)."""
        step = draft.get("step")
        cancel = _cancel_choice()
        reply: Reply
        if step == CONSENT:
            reply = Reply(
                texts.LEGAL_AID_INTRO.format(retention_days=self._retention_days),
                (
                    Choice(texts.CONSENT_YES, PAYLOAD_PREFIX + "yes"),
                    Choice(texts.CONSENT_NO, PAYLOAD_PREFIX + "no"),
                ),
            )
        elif step == CATEGORY:
            choices = tuple(
                Choice(label, f"{PAYLOAD_PREFIX}cat:{key}") for key, label in CATEGORIES.items()
            )
            reply = Reply(texts.ASK_CATEGORY, (*choices, cancel))
        elif step == DISTRICT:
            choices = tuple(
                Choice(name, f"{PAYLOAD_PREFIX}dist:{i}") for i, name in enumerate(DISTRICTS)
            )
            reply = Reply(texts.ASK_DISTRICT, (*choices, cancel))
        elif step == PHONE:
            reply = Reply(texts.ASK_PHONE, (cancel,), asks_phone=True)
        elif step == EMPLOYER:
            reply = Reply(
                texts.ASK_EMPLOYER, (Choice(texts.SKIP_LABEL, PAYLOAD_PREFIX + "skip"), cancel)
            )
        elif step == DESCRIPTION:
            reply = Reply(texts.ASK_DESCRIPTION.format(max_chars=MAX_DESCRIPTION_CHARS), (cancel,))
        else:
            reply = Reply(
                self._summary(draft),
                (Choice(texts.SUBMIT_LABEL, PAYLOAD_PREFIX + "submit"), cancel),
            )
        return replace(reply, text=f"{hint}\n\n{reply.text}") if hint else reply

    @staticmethod
    def _summary(draft: dict[str, Any]) -> str:
        description: str = draft.get("description", "")
        if len(description) > SUMMARY_DESCRIPTION_CHARS:
            description = description[:SUMMARY_DESCRIPTION_CHARS] + "…"
        return texts.CONFIRM_SUMMARY.format(
            category=CATEGORIES.get(draft.get("category", ""), ""),
            district=draft.get("district", ""),
            phone=draft.get("phone", ""),
            employer=draft.get("employer") or texts.NOT_FILLED,
            description=description,
        )

    # ------------------------------------------------------------------ /mycase and /forget

    async def my_cases(self, user_key: str) -> Reply:
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
                    date=f"{created.month}月{created.day}日",
                )
            )
        return Reply("\n".join(lines))

    def ask_forget(self, state: dict[str, Any]) -> Reply:
        state[FORGET_KEY] = True
        return Reply(
            texts.FORGET_PROMPT,
            (
                Choice(texts.FORGET_CONFIRM_LABEL, FORGET_PREFIX + "yes"),
                Choice(texts.FORGET_KEEP_LABEL, FORGET_PREFIX + "no"),
            ),
        )

    def is_forget_answer(self, message: IncomingMessage, state: dict[str, Any]) -> bool:
        if message.kind == MessageKind.CHOICE:
            return message.text.startswith(FORGET_PREFIX)
        return bool(state.get(FORGET_KEY)) and _word(self._to_simplified(message.text)) in (
            texts.FORGET_CONFIRM_LABEL,
            texts.FORGET_KEEP_LABEL,
            *_CANCEL_WORDS,
        )

    async def answer_forget(self, message: IncomingMessage, state: dict[str, Any]) -> Reply:
        """Delete on 确认删除 (only right after the prompt); anything else keeps everything."""
        asked = state.pop(FORGET_KEY, False)
        value = (
            message.text.removeprefix(FORGET_PREFIX) if message.kind == MessageKind.CHOICE else ""
        )
        confirmed = (
            value == "yes" or _word(self._to_simplified(message.text)) == texts.FORGET_CONFIRM_LABEL
        )
        if not (asked and confirmed):
            return Reply(texts.FORGET_KEPT if asked else texts.UNKNOWN_CHOICE)
        count = await self._desk.forget(message.user_key)
        state.clear()
        return Reply(texts.FORGOTTEN_CASES.format(count=count) if count else texts.FORGOTTEN)
