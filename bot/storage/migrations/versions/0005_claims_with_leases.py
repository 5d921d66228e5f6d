"""claims with leases

Every background sender's row says who holds it (`claimed_by`) and until when (`lease_until`),
so several processes share the outbox, broadcasts and job digests without sending twice. Rows
that an older version left `sending` keep their lease and become claimable when it expires.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:34:34.212837
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch_alter_table: SQLite cannot alter a table in place; on PostgreSQL it is a plain ALTER.
    with op.batch_alter_table("broadcast_delivery") as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("job_digest") as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("job_digest") as batch_op:
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("broadcast_delivery") as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
