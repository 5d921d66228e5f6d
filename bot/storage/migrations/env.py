"""Alembic's environment, run by `bot.storage.schema` on a connection it has opened (and holds a
transaction on): the models are the target, revisions render as SQLite batch operations, and the
app's own column types are written as the plain SQLAlchemy types they store, so a revision never
imports the models it predates."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from bot.storage import models


def render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Plain SQLAlchemy for our types; False lets Alembic render everything else."""
    if kind != "type":
        return False
    if isinstance(item, models.UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things: autogenerate writes batch operations (copy and move).
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
        render_item=render_item,
    )
    # The caller's transaction is open, so this adds none: one upgrade commits or rolls back whole.
    with context.begin_transaction():
        context.run_migrations()


run_migrations(context.config.attributes["connection"])
