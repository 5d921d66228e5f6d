"""The choices a person was last offered as numbered lines, and the unsent rest of a long answer."""

from __future__ import annotations

from sqlmodel import Session

from bot.storage.models import NumberedChoicesRecord, utc_now


def save_choices(
    user_key: str, choices: list[tuple[str, str]], rest: str | None, *, session: Session
) -> None:
    record = session.get(NumberedChoicesRecord, user_key)
    rows = [[label, payload] for label, payload in choices]
    if record is None:
        session.add(NumberedChoicesRecord(user_key=user_key, choices=rows, rest=rest))
        return
    record.choices = rows
    record.rest = rest
    record.updated_at = utc_now()
    session.add(record)


def load_choices(user_key: str, *, session: Session) -> tuple[list[tuple[str, str]], str | None]:
    record = session.get(NumberedChoicesRecord, user_key)
    if record is None:
        return [], None
    return [(label, payload) for label, payload in record.choices], record.rest


def forget_choices(user_key: str, *, session: Session) -> None:
    record = session.get(NumberedChoicesRecord, user_key)
    if record is not None:
        session.delete(record)
