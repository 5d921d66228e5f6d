"""One process at a time for a periodic round (retention): the others skip it, not wait."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

# Any fixed numbers, distinct from schema.UPGRADE_LOCK_KEY.
RETENTION_LOCK_KEY = 6_079_191_302


def try_round_lock(key: int, *, session: Session) -> bool:
    """Take the round's lock for this transaction; False when another process holds it.

    PostgreSQL: a transaction-scoped advisory lock, released by the commit (or by the server when
    the process dies). SQLite: True, its one writer at a time already runs rounds one by one.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
    return bool(taken.scalar_one())
