"""Policy documents in the database: idempotent import, and the immutable knowledge objects back out.

The database is the bot's copy of the knowledge base; `knowledge/` never sees a row, only the
`Document` / `Curation` objects rebuilt here. All functions take the caller's session and flush
at most: the caller decides when to commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, insert
from sqlmodel import Session, col, select

from bot.storage.models import ClauseRecord, CuratedClauseRecord, DocumentRecord, utc_now
from knowledge.curation import TOPICS, CuratedClause, Curation
from knowledge.document import CLAUSE_KINDS, Clause, Document, version_date

# Part of the hash: bump it when the stored shape changes so every document is rewritten once.
STORAGE_FORMAT = 1


class ImportOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """One line of `kb list`."""

    key: str
    title: str
    short_title: str | None  # None: imported without a curated layer
    clause_count: int
    curated_count: int
    updated_at: datetime
    version: str | None = None  # the text's last revision, else its adoption or signature date


def content_hash(document: Document, curation: Curation | None) -> str:
    """sha256 over a stable JSON form of everything stored for the document."""
    content: dict[str, Any] = {
        "format": STORAGE_FORMAT,
        "key": document.key,
        "title": document.title,
        "meta": dict(document.meta),
        "clauses": [asdict(clause) for clause in document.clauses],
        "curation": None
        if curation is None
        else {
            "short_title": curation.short_title,
            # A list, not a mapping: the curated order is stored, so it is part of the content.
            "clauses": [asdict(curated) for curated in curation.clauses.values()],
        },
    }
    stable = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(stable.encode("utf-8")).hexdigest()


def import_document(
    document: Document, curation: Curation | None, *, session: Session
) -> ImportOutcome:
    """Store a document and its curated layer, replacing an older version with the same key.

    Importing the same content again writes nothing. Flushes; the caller commits.
    """
    if curation is not None and curation.document_key != document.key:
        raise ValueError(
            f"curation for '{curation.document_key}' given with document '{document.key}'"
        )
    new_hash = content_hash(document, curation)
    record = session.exec(select(DocumentRecord).where(DocumentRecord.key == document.key)).first()
    if record is not None and record.content_hash == new_hash:
        return ImportOutcome.UNCHANGED

    short_title = curation.short_title if curation is not None else None
    if record is None:
        outcome = ImportOutcome.CREATED
        record = DocumentRecord(
            key=document.key,
            title=document.title,
            meta=dict(document.meta),
            content_hash=new_hash,
            short_title=short_title,
        )
        session.add(record)
        session.flush()  # assigns record.id for the child rows
    else:
        outcome = ImportOutcome.UPDATED
        record.title = document.title
        record.meta = dict(document.meta)
        record.content_hash = new_hash
        record.short_title = short_title
        record.updated_at = utc_now()
        session.add(record)
        # Replace rather than diff: a new text may renumber clauses, and the tables are small.
        # Executed now, so the unique (document_id, clause_id) rows are gone before the inserts.
        session.exec(delete(ClauseRecord).where(col(ClauseRecord.document_id) == record.id))
        session.exec(
            delete(CuratedClauseRecord).where(col(CuratedClauseRecord.document_id) == record.id)
        )
    document_id = _id_of(record)
    # Core inserts, one per table: a first start stores every clause of twelve documents, and
    # building ORM objects for rows nothing reads back would cost a fifth of a second.
    if document.clauses:
        session.exec(
            insert(ClauseRecord),
            params=[
                {
                    "document_id": document_id,
                    "clause_id": clause.id,
                    "position": position,
                    "kind": clause.kind,
                    "title": clause.title,
                    "text": clause.text,
                    "departments": list(clause.departments),
                    "parent": clause.parent,
                }
                for position, clause in enumerate(document.clauses)
            ],
        )
    if curation is not None and curation.clauses:
        session.exec(
            insert(CuratedClauseRecord),
            params=[
                {
                    "document_id": document_id,
                    "clause_id": clause_id,
                    "position": position,
                    "title": curated.title,
                    "topic": curated.topic,
                    "summary": curated.summary,
                    "next_steps": curated.next_steps,
                    "ask": curated.ask,
                    "hotlines": list(curated.hotlines),
                    "phrases": list(curated.phrases),
                    "no_figure": curated.no_figure,
                }
                for position, (clause_id, curated) in enumerate(curation.clauses.items())
            ],
        )
    session.flush()
    return outcome


def list_documents(*, session: Session) -> list[DocumentSummary]:
    """Every stored document with its clause counts, in import order."""
    clause_count = (
        select(func.count())
        .where(col(ClauseRecord.document_id) == DocumentRecord.id)
        .scalar_subquery()
    )
    curated_count = (
        select(func.count())
        .where(col(CuratedClauseRecord.document_id) == DocumentRecord.id)
        .scalar_subquery()
    )
    rows = session.exec(
        select(DocumentRecord, clause_count, curated_count).order_by(col(DocumentRecord.id))
    ).all()
    return [
        DocumentSummary(
            key=record.key,
            title=record.title,
            short_title=record.short_title,
            clause_count=clauses,
            curated_count=curated,
            updated_at=record.updated_at,
            version=version_date(record.meta),
        )
        for record, clauses, curated in rows
    ]


def load_document(key: str, *, session: Session) -> tuple[Document, Curation | None] | None:
    """The stored document with this key and its curated layer, or None."""
    record = session.exec(select(DocumentRecord).where(DocumentRecord.key == key)).first()
    if record is None:
        return None
    document_id = _id_of(record)
    clauses = session.exec(
        select(ClauseRecord)
        .where(ClauseRecord.document_id == document_id)
        .order_by(col(ClauseRecord.position))
    ).all()
    curated = session.exec(
        select(CuratedClauseRecord)
        .where(CuratedClauseRecord.document_id == document_id)
        .order_by(col(CuratedClauseRecord.position))
    ).all()
    return _rebuild(record, clauses, curated)


def load_knowledge(*, session: Session) -> list[tuple[Document, Curation | None]]:
    """Every stored document with its curated layer, in import order (three queries in all)."""
    records = session.exec(select(DocumentRecord).order_by(col(DocumentRecord.id))).all()
    clauses_by_document: dict[int, list[ClauseRecord]] = {}
    for clause in session.exec(
        select(ClauseRecord).order_by(col(ClauseRecord.document_id), col(ClauseRecord.position))
    ):
        clauses_by_document.setdefault(clause.document_id, []).append(clause)
    curated_by_document: dict[int, list[CuratedClauseRecord]] = {}
    for curated in session.exec(
        select(CuratedClauseRecord).order_by(
            col(CuratedClauseRecord.document_id), col(CuratedClauseRecord.position)
        )
    ):
        curated_by_document.setdefault(curated.document_id, []).append(curated)
    return [
        _rebuild(
            record,
            clauses_by_document.get(_id_of(record), []),
            curated_by_document.get(_id_of(record), []),
        )
        for record in records
    ]


def find_clause(
    clause_id: str, *, session: Session, document_key: str | None = None
) -> tuple[str, Clause] | None:
    """(document key, clause) for a clause id such as "2.3.3", or None.

    Without `document_key` the first imported document that has the clause wins.
    """
    statement = (
        select(DocumentRecord.key, ClauseRecord)
        .join(DocumentRecord, col(DocumentRecord.id) == col(ClauseRecord.document_id))
        .where(ClauseRecord.clause_id == clause_id)
        .order_by(col(DocumentRecord.id))
    )
    if document_key is not None:
        statement = statement.where(DocumentRecord.key == document_key)
    row = session.exec(statement).first()
    if row is None:
        return None
    key, record = row
    return key, _clause_from(record)


def _id_of(record: DocumentRecord) -> int:
    # The id is None only on a record never flushed; every record here was.
    assert record.id is not None
    return record.id


def _rebuild(
    record: DocumentRecord,
    clauses: Sequence[ClauseRecord],
    curated: Sequence[CuratedClauseRecord],
) -> tuple[Document, Curation | None]:
    document = Document(
        key=record.key,
        title=record.title,
        meta=dict(record.meta),
        clauses=tuple(_clause_from(clause) for clause in clauses),
    )
    if record.short_title is None:
        return document, None
    curation = Curation(
        document_key=record.key,
        short_title=record.short_title,
        clauses={row.clause_id: _curated_from(row) for row in curated},
    )
    return document, curation


def _clause_from(record: ClauseRecord) -> Clause:
    if record.kind not in CLAUSE_KINDS:
        raise ValueError(f"stored clause {record.clause_id} has unknown kind '{record.kind}'")
    return Clause(
        id=record.clause_id,
        kind=record.kind,
        title=record.title,
        text=record.text,
        departments=tuple(record.departments),
        parent=record.parent,
    )


def _curated_from(record: CuratedClauseRecord) -> CuratedClause:
    if record.topic not in TOPICS:
        raise ValueError(f"stored curated clause {record.clause_id} has unknown topic")
    return CuratedClause(
        clause_id=record.clause_id,
        title=record.title,
        topic=record.topic,
        summary=record.summary,
        next_steps=record.next_steps,
        ask=record.ask,
        hotlines=tuple(record.hotlines),
        phrases=tuple(record.phrases),
        no_figure=record.no_figure,
    )
