"""The job preferences a worker is choosing, kept in the conversation state between buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class JobStep(StrEnum):
    CONSENT = "consent"
    DISTRICTS = "districts"
    TRADES = "trades"
    PAY = "pay"


@dataclass
class JobDraft:
    step: JobStep = JobStep.CONSENT
    districts: list[str] = field(default_factory=list)
    trades: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step.value, "districts": self.districts, "trades": self.trades}

    @classmethod
    def from_json(cls, stored: object) -> JobDraft | None:
        if not isinstance(stored, dict) or stored.get("step") not in set(JobStep):
            return None
        districts, trades = stored.get("districts"), stored.get("trades")
        return cls(
            JobStep(stored["step"]),
            [str(d) for d in districts] if isinstance(districts, list) else [],
            [str(t) for t in trades] if isinstance(trades, list) else [],
        )
