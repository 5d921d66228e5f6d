"""The staff side of legal aid: the case card, its 接单 / 结案 / 备注 buttons, and the worker's notices.

Only configured staff may act; anyone else is told so and nothing changes. 备注 and 结案 ask the
staff member for a line of text (their next message); that pending step is kept in the store under
the staff member's own key, so it survives a restart like any conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from handlers import texts
from handlers.cases import (
    BEIJING,
    CATEGORIES,
    CaseChange,
    CaseDesk,
    CaseStatus,
    CaseView,
    ChangeOutcome,
    StaffMember,
)
from handlers.messages import Choice, Reply, storable_text
from handlers.payloads import parse_id, parse_payload
from handlers.state import DialogueStore

CASE_PAYLOAD_KIND = "case"
CASE_PAYLOAD_PREFIX = CASE_PAYLOAD_KIND + ":"
CASE_ACTIONS = ("claim", "close", "note")
PENDING_KEY = "staff_pending"
MAX_NOTE_CHARS = 500


class CaseEvent(StrEnum):
    """What a worker hears about: each is queued once per case (the outbox deduplicates)."""

    CLAIMED = "claimed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StaffAnswer:
    """The short acknowledgement for the button press (a toast where the channel has one) and,
    for 备注/结案, the prompt asking the staff member for their text."""

    acknowledgement: str
    prompt: Reply | None = None
    refused: bool = False


@dataclass(frozen=True, slots=True)
class StaffStep:
    """备注 or 结案 pressed on a case: the staff member's next text is its note or outcome."""

    action: str  # "note" or "close"
    case_id: int

    def to_json(self) -> dict[str, Any]:
        return {PENDING_KEY: {"action": self.action, "case": self.case_id}}

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> StaffStep | None:
        pending = stored.get(PENDING_KEY)
        if not isinstance(pending, dict) or pending.get("action") not in ("note", "close"):
            return None
        case_id = parse_id(str(pending.get("case")))
        return cls(pending["action"], case_id) if case_id is not None else None


def _beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%m-%d %H:%M")


def staff_card(case: CaseView) -> Reply:
    """The card in the staff chat, with the buttons its status allows."""
    if case.status == CaseStatus.CLOSED:
        status = texts.CARD_STATUS_CLOSED.format(
            name=case.closed_by or "",
            at=_beijing(case.closed_at) if case.closed_at else "",
            outcome=case.outcome or "",
        )
        icon = "✅"
    elif case.status == CaseStatus.CLAIMED:
        status = texts.CARD_STATUS_CLAIMED.format(
            name=case.claimed_by or "", at=_beijing(case.claimed_at) if case.claimed_at else ""
        )
        icon = "🟡"
    else:
        status, icon = texts.CARD_STATUS_PENDING, "🆕"
    deleted = texts.CARD_DELETED
    lines = [
        texts.CARD.format(
            icon=icon,
            number=case.number,
            category=CATEGORIES.get(case.category, case.category),
            district=case.district,
            phone=case.phone or deleted,
            employer=case.employer or (deleted if case.is_anonymised else texts.NOT_FILLED),
            description=case.description or deleted,
            created=_beijing(case.created_at),
            status=status,
        )
    ]
    lines += [
        texts.CARD_NOTE.format(author=note.author, at=_beijing(note.at), text=note.text)
        for note in case.notes
    ]
    choices: list[Choice] = []
    if case.status == CaseStatus.PENDING:
        choices.append(Choice(texts.CLAIM_LABEL, f"{CASE_PAYLOAD_PREFIX}claim:{case.id}"))
    if case.status != CaseStatus.CLOSED:
        choices.append(Choice(texts.CLOSE_LABEL, f"{CASE_PAYLOAD_PREFIX}close:{case.id}"))
    choices.append(Choice(texts.NOTE_LABEL, f"{CASE_PAYLOAD_PREFIX}note:{case.id}"))
    return Reply("\n".join(lines), tuple(choices))


def worker_notice(case: CaseView, event: CaseEvent) -> Reply:
    template = texts.NOTICE_CLAIMED if event == CaseEvent.CLAIMED else texts.NOTICE_CLOSED
    return Reply(template.format(number=case.number))


def _staff_state_key(staff: StaffMember) -> str:
    return f"staff:{staff.id}"


class Casework:
    """Staff actions on cases; channel adapters hand in who pressed what."""

    def __init__(self, desk: CaseDesk, store: DialogueStore, *, staff_ids: frozenset[str]) -> None:
        self._desk = desk
        self._store = store
        self._staff_ids = staff_ids

    def is_staff(self, staff: StaffMember) -> bool:
        return staff.id in self._staff_ids

    async def press(self, staff: StaffMember, payload: str) -> StaffAnswer:
        """A card button: `case:<claim|close|note>:<case id>`."""
        if not self.is_staff(staff):
            return StaffAnswer(texts.STAFF_ONLY, refused=True)
        # One turn per staff action, like a worker's message: the case change and the staff
        # member's pending step are saved together, in order across processes.
        async with self._store.turn(_staff_state_key(staff)):
            return await self._press(staff, payload)

    async def _press(self, staff: StaffMember, payload: str) -> StaffAnswer:
        button = parse_payload(payload)
        if button is None or button.kind != CASE_PAYLOAD_KIND or len(button.fields) != 2:
            return StaffAnswer(texts.STAFF_CASE_GONE)
        action, case_id = button.fields[0], button.id_at(1)
        case = await self._desk.get(case_id) if case_id is not None else None
        if case is None or action not in CASE_ACTIONS:
            return StaffAnswer(texts.STAFF_CASE_GONE)
        if action == "claim":
            return self._claim_answer(await self._desk.claim(case.id, staff), case)
        if action == "close" and case.status == CaseStatus.CLOSED:
            return StaffAnswer(texts.STAFF_ALREADY_CLOSED.format(number=case.number))
        template = texts.STAFF_ASK_NOTE if action == "note" else texts.STAFF_ASK_OUTCOME
        await self._store.save_state(_staff_state_key(staff), StaffStep(action, case.id).to_json())
        prompt = Reply(template.format(name=staff.name, number=case.number))
        return StaffAnswer(prompt.text, prompt=prompt)

    async def write(self, staff: StaffMember, text: str) -> StaffAnswer | None:
        """The staff member's text after 备注/结案; None when nothing was waiting for it."""
        if not self.is_staff(staff):
            return None
        async with self._store.turn(_staff_state_key(staff)):
            return await self._write(staff, text)

    async def _write(self, staff: StaffMember, text: str) -> StaffAnswer | None:
        key = _staff_state_key(staff)
        pending = StaffStep.from_json(await self._store.load_state(key))
        text = storable_text(text).strip()[:MAX_NOTE_CHARS]
        if pending is None or not text:
            return None
        if pending.action == "close":
            change = await self._desk.close(pending.case_id, staff, text)
        else:
            change = await self._desk.add_note(pending.case_id, staff, text)
        await self._store.save_state(key, {})
        if change.case is None:
            return StaffAnswer(texts.STAFF_CASE_GONE)
        number = change.case.number
        if change.outcome == ChangeOutcome.ALREADY_CLOSED:
            return StaffAnswer(texts.STAFF_ALREADY_CLOSED.format(number=number))
        template = texts.STAFF_CLOSED if pending.action == "close" else texts.STAFF_NOTED
        return StaffAnswer(template.format(number=number))

    @staticmethod
    def _claim_answer(change: CaseChange, case: CaseView) -> StaffAnswer:
        current = change.case or case
        if change.outcome == ChangeOutcome.DONE:
            return StaffAnswer(texts.STAFF_CLAIMED.format(number=current.number))
        if change.outcome == ChangeOutcome.ALREADY_CLAIMED:
            return StaffAnswer(
                texts.STAFF_ALREADY_CLAIMED.format(number=current.number, name=current.claimed_by)
            )
        if change.outcome == ChangeOutcome.ALREADY_CLOSED:
            return StaffAnswer(texts.STAFF_ALREADY_CLOSED.format(number=current.number))
        return StaffAnswer(texts.STAFF_CASE_GONE)
