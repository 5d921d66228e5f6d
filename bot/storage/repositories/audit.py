"""The audit log: appended in the same transaction as what it records, read by admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from bot.storage.console_models import AuditEntry

MAX_ROWS = 500


class AuditAction(StrEnum):
    """The actions the log records (stored as their values)."""

    VIEW_CASE = "view_case"
    REVEAL_PHONE = "reveal_phone"
    EXPORT = "export"
    CLAIM = "claim"
    NOTE = "note"
    CLOSE = "close"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT_EVERYWHERE = "logout_everywhere"
    HIDE_POSTING = "hide_posting"
    SHOW_POSTING = "show_posting"


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None  # the name as shown
    action: str | None = None
    case_number: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def record(
    actor_id: str,
    actor_name: str,
    action: AuditAction,
    *,
    session: Session,
    case_number: str | None = None,
    detail: str = "",
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor_id,
            actor_name=actor_name,
            action=action.value,
            case_number=case_number,
            detail=detail,
        )
    )


def entries(filters: AuditFilter, *, session: Session, limit: int = MAX_ROWS) -> list[AuditEntry]:
    """Newest first."""
    statement = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if filters.actor:
        statement = statement.where(col(AuditEntry.actor_name) == filters.actor)
    if filters.action:
        statement = statement.where(col(AuditEntry.action) == filters.action)
    if filters.case_number:
        statement = statement.where(col(AuditEntry.case_number) == filters.case_number)
    if filters.since is not None:
        statement = statement.where(col(AuditEntry.at) >= filters.since)
    if filters.until is not None:
        statement = statement.where(col(AuditEntry.at) < filters.until)
    return list(session.exec(statement))


def case_history(case_number: str, *, session: Session) -> list[AuditEntry]:
    """Everything recorded about one case, oldest first."""
    return list(
        session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.case_number) == case_number)
            .order_by(col(AuditEntry.id))
        )
    )


def actor_names(*, session: Session) -> list[str]:
    return sorted(set(session.exec(select(AuditEntry.actor_name).distinct())))
