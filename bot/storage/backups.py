"""SQLite database files: which URL names one, and a backup copy taken before an upgrade."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL


def is_in_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url.query)


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL; None for an in-memory database or another backend."""
    if url.get_backend_name() != "sqlite" or is_in_memory_sqlite(url):
        return None
    assert url.database is not None  # not in-memory, so a file path
    return Path(url.database)


def backup_path(database: Path, revision: str, *, now: datetime | None = None) -> Path:
    """policybot.db → policybot.db.bak-<revision>-<UTC time>, beside it."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return database.with_name(f"{database.name}.bak-{revision}-{moment:%Y%m%dT%H%M%SZ}")


def back_up_sqlite(database: Path, revision: str, *, now: datetime | None = None) -> Path:
    """A consistent copy of `database` (SQLite's online backup, so WAL pages are included and a
    writer in another process is waited for, not copied half-way); returns the copy's path."""
    target = backup_path(database, revision, now=now)
    with (
        contextlib.closing(sqlite3.connect(database)) as source,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    return target
