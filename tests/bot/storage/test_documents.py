"""Storage: documents imported once, read back exactly, app secrets shared — on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlmodel import Session

from bot.storage.engine import create_engine_for
from bot.storage.models import AppSecret, ClauseRecord, CuratedClauseRecord, DocumentRecord
from bot.storage.repositories.app_secret import get_or_create_secret
from bot.storage.repositories.documents import (
    ImportOutcome,
    content_hash,
    find_clause,
    import_document,
    list_documents,
    load_document,
    load_knowledge,
)
from knowledge.curation import CuratedClause, Curation
from knowledge.document import Clause, Document

BUNDLED_PLAN = (
    Path(__file__).resolve().parents[3] / "knowledge/data/tianjin-2023-county-migrant-plan.txt"
)


def make_document(key: str = "plan", *, changed: bool = False) -> Document:
    wage_text = "建立健全欠薪线索动态监测机制。" + ("新增：开通欠薪举报小程序。" if changed else "")
    return Document(
        key=key,
        title="天津市开展县域农民工市民化质量提升行动实施方案",
        meta={"发文字号": "津人社办发〔2023〕11号", "发布机构": "天津市人力资源和社会保障局"},
        clauses=(
            Clause(id="0", kind="preamble", title="", text="为深入贯彻落实……"),
            Clause(id="2", kind="part", title="重点任务", text=""),
            Clause(id="2.3", kind="section", title="维护合法权益", text="", parent="2"),
            Clause(
                id="2.3.3",
                kind="item",
                title="根治欠薪",
                text=wage_text,
                departments=("市人社局", "市总工会"),
                parent="2.3",
            ),
        ),
    )


def make_curation(key: str = "plan") -> Curation:
    # Deliberately not in clause order: the stored order is the curated file's.
    return Curation(
        document_key=key,
        short_title="《实施方案》",
        clauses={
            "2.3.3": CuratedClause(
                clause_id="2.3.3",
                title="被拖欠工资怎么办",
                topic="rights",
                summary="工资被拖欠可以投诉。",
                next_steps="拨打 12333 或到当地劳动监察大队投诉。",
                ask="您是被拖欠工资了吗？",
                hotlines=("12333", "12351"),
                phrases=("欠薪", "不给工钱"),
                no_figure="方案没有规定具体赔偿金额。",
            ),
            "2.3": CuratedClause(
                clause_id="2.3",
                title="维护权益",
                topic="rights",
                summary="方案要求维护农民工合法权益。",
                next_steps="遇到问题可以找工会。",
                ask="您想了解哪方面的权益？",
            ),
        },
    )


def count(session: Session, model: Any) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_import_creates_the_document(session: Session) -> None:
    outcome = import_document(make_document(), make_curation(), session=session)
    session.commit()

    assert outcome is ImportOutcome.CREATED
    assert count(session, DocumentRecord) == 1
    assert count(session, ClauseRecord) == 4
    assert count(session, CuratedClauseRecord) == 2


def test_reimporting_the_same_content_changes_nothing(session: Session) -> None:
    import_document(make_document(), make_curation(), session=session)
    session.commit()
    imported = session.execute(select(DocumentRecord.updated_at)).scalar_one()

    outcome = import_document(make_document(), make_curation(), session=session)

    assert outcome is ImportOutcome.UNCHANGED
    assert not session.new and not session.dirty and not session.deleted
    assert session.execute(select(DocumentRecord.updated_at)).scalar_one() == imported


def test_changed_text_replaces_the_clauses(session: Session) -> None:
    import_document(make_document(), make_curation(), session=session)
    session.commit()

    outcome = import_document(make_document(changed=True), make_curation(), session=session)
    session.commit()

    assert outcome is ImportOutcome.UPDATED
    assert count(session, DocumentRecord) == 1
    assert count(session, ClauseRecord) == 4
    assert count(session, CuratedClauseRecord) == 2
    found = find_clause("2.3.3", session=session)
    assert found is not None
    assert "欠薪举报小程序" in found[1].text


def test_dropping_the_curation_is_an_update(session: Session) -> None:
    import_document(make_document(), make_curation(), session=session)
    session.commit()

    assert import_document(make_document(), None, session=session) is ImportOutcome.UPDATED
    session.commit()

    assert count(session, CuratedClauseRecord) == 0
    assert load_document("plan", session=session) == (make_document(), None)


def test_curation_of_another_document_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="other"):
        import_document(make_document("plan"), make_curation("other"), session=session)


def test_load_knowledge_round_trips_document_and_curation(engine: Engine) -> None:
    with Session(engine) as session:
        import_document(make_document("plan"), make_curation("plan"), session=session)
        import_document(make_document("no-curation"), None, session=session)
        session.commit()

    # A new session, so nothing comes from the identity map.
    with Session(engine) as session:
        knowledge = load_knowledge(session=session)

    assert knowledge == [
        (make_document("plan"), make_curation("plan")),
        (make_document("no-curation"), None),
    ]
    document, curation = knowledge[0]
    assert document.clause_ids == ("0", "2", "2.3", "2.3.3")
    assert curation is not None
    assert list(curation.clauses) == ["2.3.3", "2.3"]


def test_load_document_by_key(session: Session) -> None:
    import_document(make_document(), make_curation(), session=session)
    session.commit()

    assert load_document("plan", session=session) == (make_document(), make_curation())
    assert load_document("missing", session=session) is None


def test_list_documents_counts_clauses(session: Session) -> None:
    before = datetime.now(UTC)
    import_document(make_document("plan"), make_curation("plan"), session=session)
    import_document(make_document("bare"), None, session=session)
    session.commit()

    summaries = list_documents(session=session)

    assert [(s.key, s.short_title, s.clause_count, s.curated_count) for s in summaries] == [
        ("plan", "《实施方案》", 4, 2),
        ("bare", None, 4, 0),
    ]
    assert summaries[0].title == make_document().title
    assert summaries[0].updated_at.tzinfo is not None
    assert summaries[0].updated_at >= before.replace(microsecond=0)


def test_find_clause_in_a_given_document(session: Session) -> None:
    import_document(make_document("first"), None, session=session)
    import_document(make_document("second", changed=True), None, session=session)
    session.commit()

    first = find_clause("2.3.3", session=session)
    second = find_clause("2.3.3", session=session, document_key="second")

    assert first is not None and first[0] == "first"
    assert second is not None and second[0] == "second"
    assert "欠薪举报小程序" in second[1].text
    assert find_clause("9.9", session=session) is None
    assert find_clause("2.3.3", session=session, document_key="missing") is None


def test_deleting_a_document_cascades_to_its_rows(session: Session) -> None:
    import_document(make_document(), make_curation(), session=session)
    session.commit()

    session.execute(DocumentRecord.__table__.delete())  # type: ignore[attr-defined]
    session.commit()

    assert count(session, ClauseRecord) == 0
    assert count(session, CuratedClauseRecord) == 0


def test_content_hash_is_stable_and_sensitive() -> None:
    assert content_hash(make_document(), None) == content_hash(make_document(), None)
    assert content_hash(make_document(), None) != content_hash(make_document(changed=True), None)
    assert content_hash(make_document(), None) != content_hash(make_document(), make_curation())
    other_summary = dataclasses.replace(make_curation().clauses["2.3"], summary="改过的解释。")
    edited = Curation("plan", "《实施方案》", {**make_curation().clauses, "2.3": other_summary})
    assert content_hash(make_document(), edited) != content_hash(make_document(), make_curation())


def test_app_secret_is_stable_and_shared(engine: Engine) -> None:
    with Session(engine) as session:
        first = get_or_create_secret("user_key", session=session)
        session.commit()
    with Session(engine) as session:
        again = get_or_create_secret("user_key", session=session)
        other = get_or_create_secret("webhook", session=session)

    assert len(first) == 64
    assert again == first
    assert other != first


def test_app_secret_race_keeps_the_first_stored_value(engine: Engine) -> None:
    """Another process stores the secret between our look-up and our insert: we use its value."""
    if engine.dialect.name == "sqlite":
        # SQLite serialises writers: the look-up's autoflush takes the write lock, so no rival
        # can store in between (it waits out the busy timeout). The race exists on PostgreSQL.
        pytest.skip("SQLite has one writer at a time: this race cannot happen there")
    rival_value = "f" * 64
    raced = False

    def store_rival_secret(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal raced
        if raced or "app_secret" not in statement or not statement.lstrip().startswith("SELECT"):
            return
        raced = True  # once: right after our session's first look-up found nothing
        with Session(engine) as rival:
            rival.add(AppSecret(name="user_key", value=rival_value))
            rival.commit()

    event.listen(engine, "after_cursor_execute", store_rival_secret)
    try:
        with Session(engine) as session:
            # The caller's own work in the same transaction, still pending: on SQLite a flushed
            # write would hold the lock and no rival could get in between.
            session.add(AppSecret(name="unrelated", value="kept"))
            value = get_or_create_secret("user_key", session=session)
            session.commit()
    finally:
        event.remove(engine, "after_cursor_execute", store_rival_secret)

    assert raced
    assert value == rival_value
    with Session(engine) as session:
        assert get_or_create_secret("user_key", session=session) == rival_value
        # Losing the race rolled back only the insert, not the caller's transaction.
        assert session.get(AppSecret, "unrelated") is not None


def test_sqlite_parent_directory_is_created(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "dir" / "bot.db"

    engine = create_engine_for(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()

    assert database.is_file()


def test_plain_postgresql_url_uses_psycopg() -> None:
    engine = create_engine_for("postgresql://bot@127.0.0.1:1/policybot")

    assert engine.url.drivername == "postgresql+psycopg"


@pytest.mark.skipif(
    importlib.util.find_spec("knowledge.parser") is None, reason="knowledge.parser not written yet"
)
def test_bundled_plan_imports_with_35_clauses(session: Session) -> None:
    from knowledge.parser import parse_file

    document = parse_file(BUNDLED_PLAN)
    assert import_document(document, None, session=session) is ImportOutcome.CREATED
    session.commit()

    loaded = load_document(document.key, session=session)

    assert loaded is not None
    assert len(loaded[0].clauses) == 35
    assert loaded[0] == document
