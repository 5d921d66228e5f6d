"""The job-posting tables: postings imported from spreadsheets, workers' preferences, what was
shown to whom, the daily digests (one row per person per day, like a broadcast's deliveries) and
the events the figures count (opened, reported, digest sent)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.storage.models import UtcDateTime, utc_now


def _timestamp() -> Any:
    return Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)


class JobPostingRecord(SQLModel, table=True):
    """One posting; `code` is the spreadsheet's 岗位编号, so a re-import updates it."""

    __tablename__ = "job_posting"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    title: str = Field(sa_type=Text)
    employer: str = Field(sa_type=Text)
    district: str = Field(index=True)
    address: str = Field(sa_type=Text)
    trade: str  # as the spreadsheet wrote it
    trade_key: str = Field(index=True)  # the canonical trade (knowledge/data/trades.toml)
    pay_min: float
    pay_max: float
    pay_unit: str  # 月 | 日 | 小时
    shift: str = Field(default="", sa_type=Text)
    board: str = Field(default="", sa_type=Text)  # 食宿
    phone: str = ""
    valid_until: date = Field(index=True)
    source: str = Field(sa_type=Text)
    import_file: str = ""
    imported_at: datetime = _timestamp()  # first import
    updated_at: datetime = _timestamp()  # last import that changed it
    expired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # `jobs expire`
    hidden_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # staff, console
    hidden_by: str | None = None


class JobPreferenceRecord(SQLModel, table=True):
    """A worker's consented job wishes and where to send the digest; deleted on /jobs off."""

    __tablename__ = "job_preference"

    user_key: str = Field(primary_key=True)
    channel: str
    address: str | None = None
    districts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trades: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    min_monthly_pay: int = 0
    consent_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    # The person's last message (WeChat allows pushed messages only within 48 hours of it).
    last_seen_at: datetime = _timestamp()


class JobShownRecord(SQLModel, table=True):
    """A posting a person has been shown (at once or in a digest): never pushed to them again."""

    __tablename__ = "job_shown"
    __table_args__ = (UniqueConstraint("user_key", "posting_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_key: str = Field(index=True)
    posting_id: int = Field(index=True)
    shown_at: datetime = _timestamp()


class JobDigestRecord(SQLModel, table=True):
    """One person's digest of one Tianjin day: pending until the platform confirmed it."""

    __tablename__ = "job_digest"
    __table_args__ = (UniqueConstraint("user_key", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_key: str = Field(index=True)
    day: str  # 20270301, Tianjin's date
    channel: str = Field(index=True)
    address: str
    text: str = Field(sa_type=Text)
    posting_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # pending → sending → sent | failed | gone; held: WeChat outside the 48 h, shown at the next
    # message (→ shown)
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = _timestamp()
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # While sending: which sender holds it, until `lease_until` (bot/storage/claims.py).
    claimed_by: str | None = None


class JobEventRecord(SQLModel, table=True):
    """Something the figures count: opened, reported, preferences_set, digest_sent; the person's
    key is dropped on /forget."""

    __tablename__ = "job_event"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    posting_id: int | None = Field(default=None, index=True)
    user_key: str | None = Field(default=None, index=True)
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False, index=True)
