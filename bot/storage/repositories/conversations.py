"""People, their dialogue state and their questions, in the database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, insert, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select, update

from bot.storage.models import ConversationRecord, QuestionRow, UserRecord, utc_now
from bot.storage.prepared import BoundStatement, PreparedStatement

FORGOTTEN_USER_KEY = "forgotten"
CONVERSATIONS: Table = ConversationRecord.__table__  # type: ignore[attr-defined]
QUESTIONS: Table = QuestionRow.__table__  # type: ignore[attr-defined]


class DialogueStatements:
    """The statements every message runs, compiled once for the engine's dialect and run on the
    DBAPI connection of the caller's transaction (bot.storage.prepared): a state's read and save
    and a question's row."""

    def __init__(self, dialect: Dialect) -> None:
        by_key = CONVERSATIONS.c.user_key == bindparam("key")
        self._load = PreparedStatement(
            select(CONVERSATIONS.c.state).where(by_key),
            dialect,
            returns=[CONVERSATIONS.c.state],
        )
        self._delete = PreparedStatement(delete(CONVERSATIONS).where(by_key), dialect)
        upsert = _dialect_insert(dialect)(CONVERSATIONS)
        # One statement whether or not the row exists: the person's lock is held by the turn,
        # and outside a turn a row created a moment ago by another process is simply updated.
        self._save = PreparedStatement(
            upsert.on_conflict_do_update(
                index_elements=[CONVERSATIONS.c.user_key],
                set_={"state": upsert.excluded.state, "updated_at": upsert.excluded.updated_at},
            ),
            dialect,
            value_names=STATE_COLUMNS,
        )
        self._record = PreparedStatement(
            insert(QUESTIONS).returning(QUESTIONS.c.id),
            dialect,
            value_names=QUESTION_COLUMNS,
            returns=[QUESTIONS.c.id],
        )
        # PostgreSQL: a question's id taken from its sequence when the turn opens, with the
        # turn's first message, so its row is written with the commit (no round trip of its own).
        # The sequence by its own name (the serial column's), not through the table: a turn that
        # records no question must not fail over the table.
        self.reserves_ids = dialect.name == "postgresql"
        self._next_id = PreparedStatement(
            select(literal_column(f"nextval('{QUESTION_ID_SEQUENCE}')")),
            dialect,
            returns=[QUESTIONS.c.id],
        )
        self._record_with_id = PreparedStatement(
            insert(QUESTIONS), dialect, value_names=("id", *QUESTION_COLUMNS)
        )

    def load(self, user_key: str) -> BoundStatement:
        return BoundStatement(self._load, {"key": user_key})

    def save(self, user_key: str, state: Mapping[str, Any]) -> BoundStatement:
        """A person's state; an empty one deletes the row (after /forget nothing is left behind)."""
        if not state:
            return BoundStatement(self._delete, {"key": user_key})
        values = {"user_key": user_key, "state": dict(state), "updated_at": utc_now()}
        return BoundStatement(self._save, values)

    def record(self, values: Mapping[str, Any]) -> BoundStatement:
        """An asked question's row (its columns but the id and `useful`; `asked_at` defaults to
        now); its rows hold the new id (`question_id`)."""
        row = {"asked_at": utc_now(), "useful": None, "text": None, **values}
        return BoundStatement(self._record, row)

    def next_question_id(self) -> BoundStatement:
        return BoundStatement(self._next_id, {}, stable=True)

    def record_with_id(self, question_id: int, values: Mapping[str, Any]) -> BoundStatement:
        return BoundStatement(
            self._record_with_id, {**self.record(values).values, "id": question_id}
        )

    @staticmethod
    def state(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
        return dict(rows[0][0]) if rows and rows[0][0] else {}

    @staticmethod
    def question_id(rows: list[tuple[Any, ...]]) -> int:
        ((question_id,),) = rows
        return int(question_id)


STATE_COLUMNS = ("user_key", "state", "updated_at")
# PostgreSQL's name for the sequence of the question table's serial id column.
QUESTION_ID_SEQUENCE = f"{QUESTIONS.name}_{QUESTIONS.c.id.name}_seq"
QUESTION_COLUMNS = tuple(column.name for column in QUESTIONS.columns if column.name != "id")


def _dialect_insert(dialect: Dialect) -> Callable[[Table], Any]:
    # Both have INSERT … ON CONFLICT DO UPDATE, each under its own dialect's construct.
    if dialect.name == "postgresql":
        return postgresql.insert
    if dialect.name == "sqlite":
        return sqlite.insert
    raise ValueError(f"unsupported database '{dialect.name}'")


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
