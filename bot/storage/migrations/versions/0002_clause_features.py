"""clause_features: each clause's tokenised features, a start-up cache of the index (08df55a).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:23:43
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clause_features",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("clause_features")
