"""A half-filled legal-aid referral: its steps and answers, kept in the conversation state; and
the referral just submitted, so a re-sent 确认提交 answers with its number.

Stored as JSON under the state's `legal_aid` key (the bot's retention purge looks for that key);
`from_json` reads what earlier versions stored and drops what it cannot read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from handlers.messages import storable_text


class Step(StrEnum):
    """The referral's questions, in the order they are asked."""

    CONSENT = "consent"
    CATEGORY = "category"
    DISTRICT = "district"
    PHONE = "phone"
    EMPLOYER = "employer"
    DESCRIPTION = "description"
    CONFIRM = "confirm"


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    # Drafts stored before inputs were cleaned may hold a NUL, which no case row can store.
    return storable_text(value) if isinstance(value, str) else None


def answer_digest(text: str) -> str:
    """A short fingerprint of a typed answer: enough to know it again, nothing to read back."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


@dataclass
class ReferralDraft:
    step: Step = Step.CONSENT
    # Last touched; a draft without it counts as long abandoned.
    at: datetime | None = None
    consent_at: datetime | None = None
    consent_version: str | None = None
    category: str | None = None
    district: str | None = None
    phone: str | None = None
    employer: str | None = None  # None also when skipped
    description: str | None = None
    # The typed answer that moved the draft to its current step (`answer_digest`): the same text
    # again is that answer re-sent (after a crash, a retry), not an answer to this step.
    last_answer: str | None = None

    def is_resent(self, text: str) -> bool:
        return self.last_answer is not None and self.last_answer == answer_digest(text)

    def missing_step(self) -> Step | None:
        """The first step whose answer is missing (only a damaged stored draft has one)."""
        answers = (
            (Step.CONSENT, self.consent_at and self.consent_version),
            (Step.CATEGORY, self.category),
            (Step.DISTRICT, self.district),
            (Step.PHONE, self.phone),
            (Step.DESCRIPTION, self.description),
        )
        return next((step for step, answer in answers if not answer), None)

    def to_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "step": self.step.value,
            "at": self.at.isoformat() if self.at else None,
            "consent_at": self.consent_at.isoformat() if self.consent_at else None,
            "consent_version": self.consent_version,
            "category": self.category,
            "district": self.district,
            "phone": self.phone,
            "employer": self.employer,
            "description": self.description,
            "last_answer": self.last_answer,
        }
        # Only the answers given, as the flow has always stored them.
        return {key: value for key, value in stored.items() if value is not None}

    @classmethod
    def from_json(cls, stored: object) -> ReferralDraft | None:
        """The draft in stored JSON; None when there is none (or it is not a mapping)."""
        if not isinstance(stored, dict):
            return None
        step = stored.get("step")
        known_steps = {member.value for member in Step}
        return cls(
            # A step this version does not know starts the referral again.
            step=Step(step) if isinstance(step, str) and step in known_steps else Step.CONSENT,
            at=_moment(stored.get("at")),
            consent_at=_moment(stored.get("consent_at")),
            consent_version=_text(stored.get("consent_version")),
            category=_text(stored.get("category")),
            district=_text(stored.get("district")),
            phone=_text(stored.get("phone")),
            employer=_text(stored.get("employer")),
            description=_text(stored.get("description")),
            last_answer=_text(stored.get("last_answer")),
        )


@dataclass(frozen=True, slots=True)
class SubmittedReferral:
    """The referral last submitted: a re-sent 确认提交 gets its number again, not a second case."""

    number: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "at": self.at.isoformat()}

    @classmethod
    def from_json(cls, stored: object) -> SubmittedReferral | None:
        if not isinstance(stored, dict):
            return None
        number, at = _text(stored.get("number")), _moment(stored.get("at"))
        return cls(number, at) if number and at else None
