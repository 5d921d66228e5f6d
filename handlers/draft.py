"""A half-filled legal-aid referral: its steps and answers, kept in the conversation state.

Stored as JSON under the state's `legal_aid` key (the bot's retention purge looks for that key);
`from_json` reads what earlier versions stored and drops what it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


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
    return value if isinstance(value, str) else None


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
        )
