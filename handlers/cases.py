"""Legal-aid cases as the dialogue sees them: what a worker submits, what staff act on, and the
small desk interface the bot implements on the database (cases and their outbox in one transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Protocol

from handlers import texts

# Case numbers and the times people read are Beijing time (no DST, so a fixed offset is exact).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
# Bump when the privacy notice's wording changes: each case records the version consented to.
CONSENT_VERSION = "2026-11-29"


class CaseStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    CLOSED = "closed"


# The labels are worker-facing text; kept importable here for the staff side and the CLI.
CATEGORIES: Mapping[str, str] = texts.CATEGORY_LABELS
DISTRICTS: tuple[str, ...] = texts.DISTRICTS


@dataclass(frozen=True, slots=True)
class CaseDraft:
    """Everything a worker confirmed, ready to become a case."""

    user_key: str
    channel: str
    address: str | None  # where to tell them about progress; None where the channel can't
    category: str
    district: str
    phone: str
    employer: str | None
    description: str
    consent_at: datetime
    consent_version: str
    traditional: bool = False


@dataclass(frozen=True, slots=True)
class CaseNote:
    author: str
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as staff and its worker see it; personal fields are None once anonymised."""

    id: int
    number: str
    status: CaseStatus
    category: str
    district: str
    phone: str | None
    employer: str | None
    description: str | None
    created_at: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    notes: tuple[CaseNote, ...] = field(default_factory=tuple)
    traditional: bool = False

    @property
    def is_anonymised(self) -> bool:
        return self.phone is None and self.description is None


@dataclass(frozen=True, slots=True)
class StaffMember:
    """Someone pressing a case button: `id` is channel-qualified (`telegram:123`)."""

    id: str
    name: str


class ChangeOutcome(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    ALREADY_CLAIMED = "already_claimed"
    ALREADY_CLOSED = "already_closed"


@dataclass(frozen=True, slots=True)
class CaseChange:
    outcome: ChangeOutcome
    case: CaseView | None


class CaseDesk(Protocol):
    """Cases in storage. Every change commits together with the notices it causes (the staff
    card, the worker's updates), which a background sender delivers later — so a crash never
    leaves a case without its card, or a card without its case."""

    async def submit(
        self, draft: CaseDraft, *, state_after: Callable[[CaseView], Mapping[str, Any]]
    ) -> CaseView:
        """Store the case, queue its staff card and save the worker's conversation state as
        `state_after(case)` gives it (the draft gone), all in one transaction; returns once it
        is committed. A crash leaves all three or none, so a re-sent submit meets either the
        draft (and submits it once) or the submitted case, never both."""

    async def cases_of(self, user_key: str) -> list[CaseView]: ...

    async def get(self, case_id: int) -> CaseView | None: ...

    async def claim(self, case_id: int, staff: StaffMember) -> CaseChange:
        """pending → claimed; queues the worker's notice and a refreshed card."""

    async def close(self, case_id: int, staff: StaffMember, outcome: str) -> CaseChange:
        """→ closed with the outcome note; queues the worker's notice and a refreshed card."""

    async def add_note(self, case_id: int, staff: StaffMember, text: str) -> CaseChange:
        """A staff note on the case; queues a refreshed card."""

    async def forget(self, user_key: str) -> int:
        """Delete a person's personal data: cases anonymised, their pending notices dropped,
        conversation state, question texts and their record removed. Returns cases anonymised."""
