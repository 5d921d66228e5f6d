"""The legal-aid cases as the console's inbox lists them: filtered, newest pending first, counted."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from bot.storage.models import LegalAidCase

MAX_LISTED = 500


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: str | None = None
    category: str | None = None
    district: str | None = None
    since: datetime | None = None  # created at or after (UTC)
    until: datetime | None = None  # created before (UTC)


def _filtered(statement: Any, filters: CaseFilter) -> Any:
    if filters.status:
        statement = statement.where(col(LegalAidCase.status) == filters.status)
    if filters.category:
        statement = statement.where(col(LegalAidCase.category) == filters.category)
    if filters.district:
        statement = statement.where(col(LegalAidCase.district) == filters.district)
    if filters.since is not None:
        statement = statement.where(col(LegalAidCase.created_at) >= filters.since)
    if filters.until is not None:
        statement = statement.where(col(LegalAidCase.created_at) < filters.until)
    return statement


def filtered_cases(
    filters: CaseFilter,
    *,
    session: Session,
    after_id: int | None = None,
    limit: int | None = MAX_LISTED,
) -> list[LegalAidCase]:
    """Pending cases first, then the rest; newest first within each."""
    pending_first = case((col(LegalAidCase.status) == "pending", 0), else_=1)
    statement = _filtered(select(LegalAidCase), filters).order_by(
        pending_first, col(LegalAidCase.id).desc()
    )
    if after_id is not None:
        statement = statement.where(col(LegalAidCase.id) > after_id)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


def status_counts(filters: CaseFilter, *, session: Session) -> dict[str, int]:
    """Cases per status under the other filters (the tabs' numbers)."""
    statement = _filtered(
        select(col(LegalAidCase.status), func.count()).group_by(col(LegalAidCase.status)),
        replace(filters, status=None),
    )
    return {status: int(count) for status, count in session.exec(statement)}


def latest_case_id(*, session: Session) -> int:
    latest = session.exec(select(func.max(LegalAidCase.id))).one()
    return int(latest) if latest is not None else 0
