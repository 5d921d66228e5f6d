"""The staff console's tables: accounts and their sessions, login attempts, the audit log, the
review of stored questions and the knowledge additions curators make.

Only new tables (the existing ones are untouched), created by `init_db` like the others.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from bot.storage.models import UtcDateTime, utc_now


def _moment(*, index: bool = False) -> Any:
    return Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False, index=index)


class StaffAccount(SQLModel, table=True):
    """Someone who signs in to the console; the password only as its argon2id hash."""

    __tablename__ = "staff_account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    role: str  # caseworker | curator | admin
    password_hash: str
    disabled: bool = False
    created_at: datetime = _moment()
    password_changed_at: datetime = _moment()
    last_login_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class StaffSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the database signs nobody in."""

    __tablename__ = "staff_session"

    token_hash: str = Field(primary_key=True)
    account_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("staff_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    csrf_token: str
    created_at: datetime = _moment()
    last_seen_at: datetime = _moment()


class LoginAttempt(SQLModel, table=True):
    """A failed sign-in, counted per account name and per address (shared by every process)."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    account_name: str = Field(index=True)
    address: str = Field(index=True)
    attempted_at: datetime = _moment(index=True)


class AuditEntry(SQLModel, table=True):
    """Who did what, when, to which case: views of personal data, phone reveals, exports,
    status changes (from the console and from the Telegram card alike)."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _moment(index=True)
    # `console:<account id>` or `telegram:<user id>`, and the name shown then.
    actor_id: str = Field(index=True)
    actor_name: str
    action: str = Field(index=True)
    case_number: str | None = Field(default=None, index=True)
    # What else matters (an export's filters and row count); never personal data.
    detail: str = Field(default="", sa_type=Text)


class QuestionReview(SQLModel, table=True):
    """A curator's decision on a stored question, so it leaves the review queue."""

    __tablename__ = "question_review"

    question_id: int = Field(primary_key=True)
    action: str  # attached | synonym | out_of_scope | dismissed
    reviewer: str
    reviewed_at: datetime = _moment()
    addition_id: int | None = None


class KnowledgeAddition(SQLModel, table=True):
    """A reviewed phrase for a clause, or a synonym for a term, effective without a restart."""

    __tablename__ = "knowledge_addition"

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # phrase | synonym
    text: str  # the phrase, or the synonym's variant
    document_key: str | None = None  # phrases: the clause they are attached to
    clause_id: str | None = None
    canonical: str | None = None  # synonyms: the term the variant means
    added_by: str
    added_at: datetime = _moment()
    # Set once `policybot kb export-additions` wrote it into the curated data files.
    exported_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class KnowledgeRevision(SQLModel, table=True):
    """A counter bumped with every change to the additions: each process compares it with the
    revision its matcher was built at and rebuilds when it moved."""

    __tablename__ = "knowledge_revision"

    name: str = Field(primary_key=True)
    revision: int = 0
