"""Curators' additions to the knowledge base (phrases, synonyms), the revision counter every
process watches, and the review decisions on stored questions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import MappingProxyType

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from bot.storage.console_models import KnowledgeAddition, KnowledgeRevision, QuestionReview
from bot.storage.models import QuestionRow, utc_now
from knowledge.additions import Additions

REVISION_NAME = "additions"
PHRASE, SYNONYM = "phrase", "synonym"


def current_revision(*, session: Session) -> int:
    row = session.get(KnowledgeRevision, REVISION_NAME)
    return row.revision if row is not None else 0


def bump_revision(*, session: Session) -> int:
    """One more revision, as an atomic increment (two curators at once both count)."""
    increment = (
        update(KnowledgeRevision)
        .where(col(KnowledgeRevision.name) == REVISION_NAME)
        .values(revision=KnowledgeRevision.revision + 1)
        .returning(col(KnowledgeRevision.revision))
    )
    for _ in range(2):
        value = session.exec(increment).scalar_one_or_none()
        if value is not None:
            return int(value)
        try:
            # A savepoint: losing the race to create the row undoes only this insert.
            with session.begin_nested():
                session.add(KnowledgeRevision(name=REVISION_NAME, revision=1))
        except IntegrityError:
            continue  # another process created it first: increment theirs
        return 1
    raise RuntimeError("the knowledge revision could not be bumped")


def add_phrase(
    document_key: str, clause_id: str, phrase: str, *, added_by: str, session: Session
) -> KnowledgeAddition:
    addition = KnowledgeAddition(
        kind=PHRASE, text=phrase, document_key=document_key, clause_id=clause_id, added_by=added_by
    )
    session.add(addition)
    session.flush()
    bump_revision(session=session)
    return addition


def add_synonym(
    variant: str, canonical: str, *, added_by: str, session: Session
) -> KnowledgeAddition:
    addition = KnowledgeAddition(kind=SYNONYM, text=variant, canonical=canonical, added_by=added_by)
    session.add(addition)
    session.flush()
    bump_revision(session=session)
    return addition


def list_additions(*, session: Session, unexported_only: bool = False) -> list[KnowledgeAddition]:
    statement = select(KnowledgeAddition).order_by(col(KnowledgeAddition.id))
    if unexported_only:
        statement = statement.where(col(KnowledgeAddition.exported_at).is_(None))
    return list(session.exec(statement))


def load_additions(*, session: Session) -> Additions:
    """Every addition, as the matcher is built with them."""
    phrases: dict[tuple[str, str], tuple[str, ...]] = {}
    synonyms: dict[str, str] = {}
    for addition in list_additions(session=session):
        if addition.kind == PHRASE and addition.document_key and addition.clause_id:
            key = (addition.document_key, addition.clause_id)
            phrases[key] = (*phrases.get(key, ()), addition.text)
        elif addition.kind == SYNONYM and addition.canonical:
            synonyms.setdefault(addition.text, addition.canonical)
    return Additions(MappingProxyType(phrases), MappingProxyType(synonyms))


def mark_exported(ids: Iterable[int], *, session: Session) -> None:
    session.exec(
        update(KnowledgeAddition)
        .where(col(KnowledgeAddition.id).in_(list(ids)))
        .values(exported_at=utc_now())
    )


# ---------------------------------------------------------------- the review queue


def questions_to_review(*, since: datetime, session: Session) -> list[QuestionRow]:
    """Unanswered or 没用 questions whose text is still kept and that nobody decided on yet."""
    reviewed = select(QuestionReview.question_id)
    return list(
        session.exec(
            select(QuestionRow)
            .where(
                col(QuestionRow.text).is_not(None),
                col(QuestionRow.asked_at) >= since,
                col(QuestionRow.fallback) | (col(QuestionRow.useful) == False),  # noqa: E712
                col(QuestionRow.id).not_in(reviewed),
            )
            .order_by(col(QuestionRow.id).desc())
        )
    )


def decide(
    question_ids: Iterable[int],
    action: str,
    *,
    reviewer: str,
    session: Session,
    addition_id: int | None = None,
) -> int:
    """Record one decision for each question still waiting; returns how many it took."""
    waiting = set(
        session.exec(
            select(QuestionRow.id).where(
                col(QuestionRow.id).in_(list(question_ids)),
                col(QuestionRow.id).not_in(select(QuestionReview.question_id)),
            )
        )
    )
    for question_id in sorted(i for i in waiting if i is not None):
        session.add(
            QuestionReview(
                question_id=question_id, action=action, reviewer=reviewer, addition_id=addition_id
            )
        )
    return len(waiting)
