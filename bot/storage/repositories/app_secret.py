"""Secrets the app generates for itself and keeps in the database, shared by all its processes."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.storage.models import AppSecret


def get_or_create_secret(name: str, *, session: Session) -> str:
    """The secret called `name`, generated (64 hex digits) and stored the first time it is asked for.

    Two processes starting together may both find no row; the second insert then fails on the
    primary key, and the row the first one stored is read and used, so both agree.
    The new row is flushed, not committed: the caller commits.
    """
    existing = session.get(AppSecret, name)
    if existing is not None:
        return existing.value
    value = secrets.token_hex(32)
    try:
        # A savepoint, so losing the race undoes only this insert, not the caller's transaction.
        with session.begin_nested():
            session.add(AppSecret(name=name, value=value))
    except IntegrityError:
        winner = session.get(AppSecret, name, populate_existing=True)
        if winner is None:  # the other process rolled back after all: nothing to agree on
            raise
        return winner.value
    return value
