"""The database tables (sqlmodel); only bot/ sees them, the rest of the code sees knowledge types.

Lists and mappings are JSON columns so the same tables work on SQLite and PostgreSQL, and every
timestamp is a timezone-aware UTC datetime on both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A datetime stored in UTC and always read back timezone-aware.

    PostgreSQL keeps the zone (timestamptz); SQLite has none and would hand back naive values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC values only")
        value = value.astimezone(UTC)
        # SQLite's DATETIME text has no offset; store the UTC wall time and re-attach UTC on read.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timestamp_column() -> Any:
    return Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)


def _document_fk_column() -> Any:
    # Deleting a document deletes its clauses and curated rows in the database itself.
    return Field(
        sa_column=Column(
            Integer, ForeignKey("document.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )


class DocumentRecord(SQLModel, table=True):
    """One imported policy document; `content_hash` tells a re-import whether anything changed."""

    __tablename__ = "document"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    title: str = Field(sa_type=Text)
    meta: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str
    # The curation's short title; None means the document was imported without a curated layer.
    short_title: str | None = None
    imported_at: datetime = _timestamp_column()
    updated_at: datetime = _timestamp_column()


class ClauseRecord(SQLModel, table=True):
    """One clause of a document; `position` keeps the reading order."""

    __tablename__ = "clause"
    __table_args__ = (UniqueConstraint("document_id", "clause_id"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = _document_fk_column()
    clause_id: str
    position: int
    kind: str
    title: str = Field(sa_type=Text)
    text: str = Field(sa_type=Text)
    departments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    parent: str | None = None


class CuratedClauseRecord(SQLModel, table=True):
    """The reviewed plain-language layer of one clause; `position` keeps the curated file's order."""

    __tablename__ = "curated_clause"
    __table_args__ = (UniqueConstraint("document_id", "clause_id"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = _document_fk_column()
    clause_id: str
    position: int
    title: str = Field(sa_type=Text)
    topic: str
    summary: str = Field(sa_type=Text)
    next_steps: str = Field(sa_type=Text)
    ask: str = Field(sa_type=Text)
    hotlines: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    phrases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    no_figure: str = Field(default="", sa_type=Text)


class AppSecret(SQLModel, table=True):
    """A generated secret the app keeps between restarts (e.g. the user-key HMAC key)."""

    __tablename__ = "app_secret"

    name: str = Field(primary_key=True)
    value: str


class ClauseFeaturesRecord(SQLModel, table=True):
    """One clause's tokenised features, keyed by its texts and the tokenizer (a start-up cache)."""

    __tablename__ = "clause_features"

    key: str = Field(primary_key=True)
    counts: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class UserRecord(SQLModel, table=True):
    """A person, known only by a keyed hash of their platform id; no names, no numbers."""

    __tablename__ = "bot_user"

    user_key: str = Field(primary_key=True)
    channel: str
    first_seen: datetime = _timestamp_column()
    source: str | None = None  # the deep-link payload (poster, campaign) that brought them
    source_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    language: str | None = None


class QuestionRow(SQLModel, table=True):
    """One answered (or unanswered) question: numbers always, text only where policy allows."""

    __tablename__ = "question"

    id: int | None = Field(default=None, primary_key=True)
    user_key: str = Field(index=True)
    channel: str
    document_key: str | None = None
    clause_id: str | None = None
    score: float = 0.0
    topic: str | None = None
    fallback: bool = False
    handoff: bool = False
    latency_ms: float = 0.0
    useful: bool | None = None
    # Kept only for unanswered or 没用 questions, for review, and only for the retention period.
    text: str | None = Field(default=None, sa_type=Text)
    asked_at: datetime = Field(
        default_factory=utc_now, sa_type=UtcDateTime, nullable=False, index=True
    )


class ConversationRecord(SQLModel, table=True):
    """A person's dialogue state, so any process or channel continues the conversation."""

    __tablename__ = "conversation"

    user_key: str = Field(primary_key=True)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _timestamp_column()


class NumberedChoicesRecord(SQLModel, table=True):
    """The last reply's choices on a channel without buttons (WeChat), so a bare number picks one;
    and the rest of an answer too long for one message, sent when asked."""

    __tablename__ = "numbered_choices"

    user_key: str = Field(primary_key=True)
    # [[label, payload], …] in the order they were numbered.
    choices: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rest: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = _timestamp_column()


class WechatReceiptRecord(SQLModel, table=True):
    """A WeChat message or event seen once: its retries get the stored reply, not a second run."""

    __tablename__ = "wechat_receipt"

    # msg:<user key>:<MsgId> or event:<user key>:<CreateTime>; no openid.
    dedupe_key: str = Field(primary_key=True)
    # The reply's text; None while the first delivery is still being answered.
    reply: str | None = Field(default=None, sa_type=Text)
    received_at: datetime = Field(
        default_factory=utc_now, sa_type=UtcDateTime, nullable=False, index=True
    )


class LegalAidCase(SQLModel, table=True):
    """A worker's legal-aid referral. Personal fields (phone, employer, description, address,
    notes) are nulled when the worker asks to be forgotten or the closed case passes retention."""

    __tablename__ = "legal_aid_case"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True)  # LA-20270115-0007
    user_key: str | None = Field(default=None, index=True)
    channel: str
    address: str | None = None  # where the worker's notices go (e.g. a Telegram chat id)
    source: str | None = None  # the deep-link payload that brought the worker, for campaign stats
    traditional: bool = False
    category: str
    district: str
    phone: str | None = None
    employer: str | None = Field(default=None, sa_type=Text)
    description: str | None = Field(default=None, sa_type=Text)
    consent_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    consent_version: str
    status: str = Field(default="pending", index=True)
    created_at: datetime = Field(
        default_factory=utc_now, sa_type=UtcDateTime, nullable=False, index=True
    )
    claimed_by_id: str | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_by: str | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    outcome: str | None = Field(default=None, sa_type=Text)
    notes: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    card_message_id: str | None = None  # the staff card, so later changes edit it in place
    anonymised_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class CaseCounter(SQLModel, table=True):
    """The last case number given out per Beijing day; incremented atomically."""

    __tablename__ = "case_counter"

    day: str = Field(primary_key=True)  # 20270115
    last: int = 0


class OutboxMessage(SQLModel, table=True):
    """A message owed to someone, committed with the change that caused it and sent by a
    background task: a crash, a restart or an outage delays it but doesn't lose it. `dedupe_key`
    makes queueing the same notice twice a no-op."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    channel: str = Field(index=True)
    address: str
    kind: str  # case_card | card_refresh | worker_notice
    case_id: int | None = Field(default=None, index=True)
    event: str | None = None
    status: str = Field(default="pending", index=True)  # pending | sending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, nullable=False)
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = None
    created_at: datetime = _timestamp_column()
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # While sending: which sender holds it, until `lease_until` (bot/storage/claims.py). Columns
    # added by a migration come last, here too, so the models match the upgraded tables.
    claimed_by: str | None = None


# ---------------------------------------------------------------- campaigns and broadcasts


class CampaignRecord(SQLModel, table=True):
    """A drive such as 春风行动: its deep-link code, its window and what organisers tell workers."""

    __tablename__ = "campaign"

    code: str = Field(primary_key=True)
    name: str
    starts_on: date
    ends_on: date
    # Curated topics (employment, rights, …) whose answers carry `info` during the window.
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    info: str = Field(default="", sa_type=Text)
    created_at: datetime = _timestamp_column()


class CampaignArrival(SQLModel, table=True):
    """Someone opened a campaign's deep link at a place (`/start CODE_place`)."""

    __tablename__ = "campaign_arrival"

    id: int | None = Field(default=None, primary_key=True)
    user_key: str = Field(index=True)
    campaign_code: str = Field(index=True)
    place: str
    # True when the link brought a person the bot had not seen before.
    new_user: bool = False
    arrived_at: datetime = Field(
        default_factory=utc_now, sa_type=UtcDateTime, nullable=False, index=True
    )


class SubscriptionRecord(SQLModel, table=True):
    """An explicit opt-in to campaign news; the address exists only while the person subscribes."""

    __tablename__ = "subscription"

    user_key: str = Field(primary_key=True)
    channel: str
    # Where to send (a Telegram chat id); deleted on unsubscribe or when the person blocks the bot.
    address: str | None = None
    # Menu topic keys (jobs, rights, …); empty means every campaign.
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    # The campaign that brought the person, for the campaign's figures.
    campaign_code: str | None = Field(default=None, index=True)
    subscribed_at: datetime = _timestamp_column()
    unsubscribed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class BroadcastRecord(SQLModel, table=True):
    """One message to a campaign's subscribers; its deliveries make a rerun resume."""

    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    campaign_code: str = Field(index=True)
    text: str = Field(sa_type=Text)
    text_hash: str = Field(index=True)
    not_before: datetime = _timestamp_column()
    created_at: datetime = _timestamp_column()
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class DeliveryRecord(SQLModel, table=True):
    """One subscriber's copy of one broadcast: pending until Telegram confirms it."""

    __tablename__ = "broadcast_delivery"
    __table_args__ = (UniqueConstraint("broadcast_id", "user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("broadcast.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    user_key: str
    # pending → sent | blocked (403) | gone (unsubscribed meanwhile) | failed (400, kept for a look)
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # A pending delivery a sender holds: who and until when (bot/storage/claims.py).
    claimed_by: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
