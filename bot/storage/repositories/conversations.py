"""People, their dialogue state and their questions, in the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select, update

from bot.storage.models import ConversationRecord, QuestionRow, UserRecord, utc_now

FORGOTTEN_USER_KEY = "forgotten"
CONVERSATIONS: Table = ConversationRecord.__table__  # type: ignore[attr-defined]
QUESTIONS: Table = QuestionRow.__table__  # type: ignore[attr-defined]
_BY_KEY = CONVERSATIONS.c.user_key == bindparam("key")
_LOAD_STATE = select(CONVERSATIONS.c.state).where(_BY_KEY)
_DELETE_STATE = delete(CONVERSATIONS).where(_BY_KEY)
_UPDATE_STATE = (
    update(CONVERSATIONS)
    .where(_BY_KEY)
    .values(state=bindparam("state"), updated_at=bindparam("updated_at"))
)
_INSERT_STATE = insert(CONVERSATIONS).values(
    user_key=bindparam("key"), state=bindparam("state"), updated_at=bindparam("updated_at")
)
_INSERT_QUESTION = insert(QUESTIONS).returning(QUESTIONS.c.id)


def load_state(user_key: str, *, session: Session) -> dict[str, Any]:
    # Prepared statements on the connection, no unit of work: every message reads and writes its
    # state once, and the ORM's bookkeeping was most of a turn's cost (scripts/bench_framework.py).
    stored = session.connection().execute(_LOAD_STATE, {"key": user_key}).scalar_one_or_none()
    return dict(stored) if stored else {}


def save_state(user_key: str, state: dict[str, Any], *, session: Session) -> None:
    """A person's state; an empty one deletes the row (after /forget nothing is left behind)."""
    connection = session.connection()
    if not state:
        connection.execute(_DELETE_STATE, {"key": user_key})
        return
    values = {"key": user_key, "state": dict(state), "updated_at": utc_now()}
    if connection.execute(_UPDATE_STATE, values).rowcount:
        return
    savepoint = connection.begin_nested()
    try:
        connection.execute(_INSERT_STATE, values)
        savepoint.commit()
    except IntegrityError:  # created a moment ago outside a turn (a turn holds the person's lock)
        savepoint.rollback()
        connection.execute(_UPDATE_STATE, values)


def touch_user(
    user_key: str, channel: str, *, language: str | None, source: str | None, session: Session
) -> None:
    """Create the person on first sight; a later deep link updates where they came from."""
    user = session.get(UserRecord, user_key)
    if user is None:
        user = UserRecord(user_key=user_key, channel=channel, language=language)
        savepoint = session.begin_nested()  # inside a turn: undo this insert only
        session.add(user)
        try:
            savepoint.commit()
        except IntegrityError:  # another process created them a moment ago
            savepoint.rollback()
            user = session.get(UserRecord, user_key)
            if user is None:
                raise
    if source:
        user.source = source
        user.source_at = utc_now()
    if language and not user.language:
        user.language = language
    session.add(user)


def record_question(values: Mapping[str, Any], *, session: Session) -> int:
    """Insert an asked question's row (its columns but the id; `asked_at` defaults to now);
    returns its id."""
    row = {"asked_at": utc_now(), "useful": None, "text": None, **values}
    return int(session.connection().execute(_INSERT_QUESTION, row).scalar_one())


def record_feedback(
    question_id: int, user_key: str, *, useful: bool, text: str | None, session: Session
) -> bool:
    """Feedback on one's own question; the text is kept only for 没用."""
    values: dict[str, Any] = {"useful": useful}
    if not useful and text:
        values["text"] = text
    result = session.exec(
        update(QuestionRow)
        .where(col(QuestionRow.id) == question_id, col(QuestionRow.user_key) == user_key)
        .values(**values)
    )
    return bool(result.rowcount)


def purge_question_texts(
    *, older_than: timedelta, session: Session, now: datetime | None = None
) -> int:
    """Forget stored question texts past the retention period; the numbers stay.

    Conversation states idle that long go too: the last question's text waits there for its
    有用/没用 press, and nothing else in a state is worth keeping that long.
    """
    cutoff = (now or utc_now()) - older_than
    result = session.exec(
        update(QuestionRow)
        .where(col(QuestionRow.asked_at) < cutoff, col(QuestionRow.text).is_not(None))
        .values(text=None)
    )
    session.exec(delete(ConversationRecord).where(col(ConversationRecord.updated_at) < cutoff))
    return int(result.rowcount or 0)


def purge_expired_drafts(
    draft_key: str, *, older_than: timedelta, session: Session, now: datetime | None = None
) -> int:
    """Drop half-filled flows (they hold a phone number) from states idle past the timeout."""
    cutoff = (now or utc_now()) - older_than
    dropped = 0
    stale = session.exec(
        select(ConversationRecord).where(col(ConversationRecord.updated_at) < cutoff)
    ).all()
    for record in stale:
        if draft_key in record.state:
            session.expunge(record)  # written below only if nobody changed it since it was read
            # Conditional on the state read: a turn saved meanwhile, or a /forget, wins.
            result = session.exec(
                update(ConversationRecord)
                .where(
                    col(ConversationRecord.user_key) == record.user_key,
                    col(ConversationRecord.updated_at) == record.updated_at,
                )
                .values(state={k: v for k, v in record.state.items() if k != draft_key})
            )
            dropped += int(result.rowcount or 0)
    return dropped


def forget_user(user_key: str, *, session: Session) -> None:
    """Delete what the bot keeps about a person (state, texts); anonymous counts stay."""
    session.exec(delete(ConversationRecord).where(col(ConversationRecord.user_key) == user_key))
    # The numbers stay for statistics, unlinked from the person's key.
    session.exec(
        update(QuestionRow)
        .where(col(QuestionRow.user_key) == user_key)
        .values(text=None, user_key=FORGOTTEN_USER_KEY)
    )


def list_users(*, session: Session) -> list[UserRecord]:
    return list(session.exec(select(UserRecord)))


def list_questions(*, session: Session) -> list[QuestionRow]:
    return list(session.exec(select(QuestionRow).order_by(col(QuestionRow.id))))
