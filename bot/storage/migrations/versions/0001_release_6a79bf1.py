"""The schema of release 6a79bf1, exactly as its create_all made it.

Every table it had, with its indexes, unique constraints and foreign keys, and no server defaults
(the models fill every value).

Databases that release created have no version table; `bot.storage.schema` recognises their
tables as this revision and stamps them before upgrading. Frozen: never edit it, add a revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 15:54:04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_secret",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "bot_user",
        sa.Column("user_key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("source_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("user_key"),
    )
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_code", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_broadcast_campaign_code", "broadcast", ["campaign_code"], unique=False)
    op.create_index("ix_broadcast_text_hash", "broadcast", ["text_hash"], unique=False)
    op.create_table(
        "campaign",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "campaign_arrival",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(), nullable=False),
        sa.Column("campaign_code", sa.String(), nullable=False),
        sa.Column("place", sa.String(), nullable=False),
        sa.Column("new_user", sa.Boolean(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_campaign_arrival_arrived_at", "campaign_arrival", ["arrived_at"], unique=False
    )
    op.create_index(
        "ix_campaign_arrival_campaign_code", "campaign_arrival", ["campaign_code"], unique=False
    )
    op.create_index("ix_campaign_arrival_user_key", "campaign_arrival", ["user_key"], unique=False)
    op.create_table(
        "case_counter",
        sa.Column("day", sa.String(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "conversation",
        sa.Column("user_key", sa.String(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_key"),
    )
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("short_title", sa.String(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_document_key", "document", ["key"], unique=True)
    op.create_table(
        "legal_aid_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("user_key", sa.String(), nullable=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("traditional", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("employer", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_version", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by_id", sa.String(), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("card_message_id", sa.String(), nullable=True),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_legal_aid_case_created_at", "legal_aid_case", ["created_at"], unique=False)
    op.create_index("ix_legal_aid_case_number", "legal_aid_case", ["number"], unique=True)
    op.create_index("ix_legal_aid_case_status", "legal_aid_case", ["status"], unique=False)
    op.create_index("ix_legal_aid_case_user_key", "legal_aid_case", ["user_key"], unique=False)
    op.create_table(
        "numbered_choices",
        sa.Column("user_key", sa.String(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("rest", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_key"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_outbox_case_id", "outbox", ["case_id"], unique=False)
    op.create_index("ix_outbox_channel", "outbox", ["channel"], unique=False)
    op.create_index("ix_outbox_status", "outbox", ["status"], unique=False)
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("document_key", sa.String(), nullable=True),
        sa.Column("clause_id", sa.String(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("topic", sa.String(), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("useful", sa.Boolean(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_question_asked_at", "question", ["asked_at"], unique=False)
    op.create_index("ix_question_user_key", "question", ["user_key"], unique=False)
    op.create_table(
        "subscription",
        sa.Column("user_key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("campaign_code", sa.String(), nullable=True),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_key"),
    )
    op.create_index(
        "ix_subscription_campaign_code", "subscription", ["campaign_code"], unique=False
    )
    op.create_table(
        "wechat_receipt",
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dedupe_key"),
    )
    op.create_index(
        "ix_wechat_receipt_received_at", "wechat_receipt", ["received_at"], unique=False
    )
    op.create_table(
        "broadcast_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "user_key"),
    )
    op.create_index(
        "ix_broadcast_delivery_broadcast_id", "broadcast_delivery", ["broadcast_id"], unique=False
    )
    op.create_index("ix_broadcast_delivery_status", "broadcast_delivery", ["status"], unique=False)
    op.create_table(
        "clause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("parent", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "clause_id"),
    )
    op.create_index("ix_clause_document_id", "clause", ["document_id"], unique=False)
    op.create_table(
        "curated_clause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("ask", sa.Text(), nullable=False),
        sa.Column("hotlines", sa.JSON(), nullable=False),
        sa.Column("phrases", sa.JSON(), nullable=False),
        sa.Column("no_figure", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "clause_id"),
    )
    op.create_index(
        "ix_curated_clause_document_id", "curated_clause", ["document_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("curated_clause")
    op.drop_table("clause")
    op.drop_table("broadcast_delivery")
    op.drop_table("wechat_receipt")
    op.drop_table("subscription")
    op.drop_table("question")
    op.drop_table("outbox")
    op.drop_table("numbered_choices")
    op.drop_table("legal_aid_case")
    op.drop_table("document")
    op.drop_table("conversation")
    op.drop_table("case_counter")
    op.drop_table("campaign_arrival")
    op.drop_table("campaign")
    op.drop_table("broadcast")
    op.drop_table("bot_user")
    op.drop_table("app_secret")
