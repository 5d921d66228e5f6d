"""The index's start-up cache: clause features tokenised once, kept while their texts stay the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from bot.storage.models import ClauseFeaturesRecord


def cached_features(keys: Sequence[str], *, session: Session) -> dict[str, dict[str, float]]:
    rows = session.exec(
        select(ClauseFeaturesRecord).where(col(ClauseFeaturesRecord.key).in_(list(keys)))
    )
    return {row.key: row.counts for row in rows}


def store_features(counts: Mapping[str, Mapping[str, float]], *, session: Session) -> None:
    """Adds what is missing; a row another process stored meanwhile is left as it is (same key).

    One multi-row insert (a first start stores every clause at once); should another process
    have stored some of the same rows meanwhile, row by row.
    """
    present = set(
        session.exec(
            select(ClauseFeaturesRecord.key).where(col(ClauseFeaturesRecord.key).in_(list(counts)))
        )
    )
    missing = {key: dict(value) for key, value in counts.items() if key not in present}
    if not missing:
        return
    try:
        with session.begin_nested():
            rows = [{"key": key, "counts": value} for key, value in missing.items()]
            session.exec(insert(ClauseFeaturesRecord), params=rows)
        return
    except IntegrityError:
        pass
    for key, value in missing.items():
        try:
            with session.begin_nested():
                session.add(ClauseFeaturesRecord(key=key, counts=value))
        except IntegrityError:
            continue


def drop_features_except(keys: Sequence[str], *, session: Session) -> int:
    """Forget the features of texts no longer indexed; returns how many rows went."""
    result = session.exec(
        delete(ClauseFeaturesRecord).where(col(ClauseFeaturesRecord.key).not_in(list(keys)))
    )
    return result.rowcount or 0
