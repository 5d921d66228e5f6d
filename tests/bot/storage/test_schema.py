"""The revisions: 0001 is exactly release 6a79bf1's schema, head is exactly today's models
(`alembic check` finds nothing), older databases are recognised, and an upgrade is all or nothing
— on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect, text
from sqlmodel import SQLModel

from bot.storage.engine import create_engine_for, init_db
from bot.storage.schema import (
    MIGRATIONS,
    VERSION_TABLE,
    SchemaError,
    alembic_config,
    check_models,
    create_empty_at_head,
    migration_transaction,
    numbered_head,
    prepare_schema,
    read_state,
    revisions,
    script_directory,
    stamped_at_head,
    upgrade,
)
from tests.bot.storage.release_6a79bf1 import (
    create_release_schema,
    dump_rows,
    fill,
    release_columns,
    snapshot,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    """The production engine on an empty database, nothing created."""
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def drop_everything(engine: Engine) -> None:
    with engine.begin() as connection:
        found = MetaData()
        found.reflect(connection)
        found.drop_all(connection)


def upgrade_to(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def test_revisions_are_one_numbered_line() -> None:
    scripts = revisions()
    assert [s.revision for s in scripts] == [f"{n:04d}" for n in range(1, len(scripts) + 1)]
    assert [s.down_revision for s in scripts] == [None, *[s.revision for s in scripts[:-1]]]
    assert script_directory().get_heads() == [scripts[-1].revision]
    for script in scripts:
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path
    assert numbered_head() == scripts[-1].revision  # the start's look-up without Alembic


def version_table(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as connection:
        inspector = inspect(connection)
        columns = [
            (c["name"], repr(c["type"]), c["nullable"])
            for c in inspector.get_columns(VERSION_TABLE)
        ]
        rows = connection.execute(text(f"SELECT * FROM {VERSION_TABLE}")).all()
        return columns, inspector.get_pk_constraint(VERSION_TABLE), [tuple(row) for row in rows]


def test_an_empty_sqlite_file_is_built_at_head_as_the_revisions_build_it(tmp_path: Path) -> None:
    built = create_engine_for(f"sqlite:///{tmp_path / 'built.db'}")
    migrated = create_engine_for(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        assert create_empty_at_head(built) == numbered_head()
        init_db(migrated)
        assert snapshot(built) == snapshot(migrated)
        assert version_table(built) == version_table(migrated)
        assert read_state(built).is_at_head
        with built.connect() as connection:
            assert check_models(connection) is None
        assert create_empty_at_head(built) is None  # it has tables now: left to its revisions
    finally:
        built.dispose()
        migrated.dispose()


def test_a_first_start_on_sqlite_reports_the_built_head(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        report = prepare_schema(engine)
        assert report is not None and (report.before, report.after) == (None, numbered_head())
        assert report.backup is None
    finally:
        engine.dispose()


def test_only_a_database_stamped_at_head_skips_alembic(bare_engine: Engine) -> None:
    assert stamped_at_head(bare_engine) is None
    upgrade_to(bare_engine, "0001")
    assert stamped_at_head(bare_engine) is None
    init_db(bare_engine)
    assert stamped_at_head(bare_engine) == numbered_head()


def test_migrations_ship_with_the_package() -> None:
    """A non-editable install gets the template and every revision (they are not a package)."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot.storage.migrations"]
    data = [
        path.relative_to(MIGRATIONS).as_posix()
        for path in MIGRATIONS.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.parent != MIGRATIONS
    ] + ["script.py.mako"]
    assert len(data) == len(revisions()) + 1
    assert [name for name in data if not any(fnmatch(name, p) for p in patterns)] == []


def test_the_first_revision_is_the_release_schema(bare_engine: Engine) -> None:
    create_release_schema(bare_engine)
    release = snapshot(bare_engine)
    drop_everything(bare_engine)
    upgrade_to(bare_engine, "0001")
    assert snapshot(bare_engine) == release
    assert len(release) == 17


def test_head_is_exactly_the_models(bare_engine: Engine) -> None:
    SQLModel.metadata.create_all(bare_engine)
    models = snapshot(bare_engine)
    drop_everything(bare_engine)
    init_db(bare_engine)
    assert snapshot(bare_engine) == models
    with bare_engine.connect() as connection:
        assert check_models(connection) is None  # what `alembic check` says


def test_the_model_check_sees_a_missing_index(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_outbox_status"))
    with engine.connect() as connection:
        differences = check_models(connection)
    assert differences is not None and "ix_outbox_status" in differences


def test_a_release_database_is_recognised_and_stamped(bare_engine: Engine) -> None:
    create_release_schema(bare_engine)
    state = read_state(bare_engine)
    assert (state.current, state.recognised, state.is_at_head) == (None, "0001", False)
    report = upgrade(bare_engine, back_up=False)
    assert (report.before, report.after) == ("0001", state.head)
    assert read_state(bare_engine).current == state.head
    assert "clause_features" in inspect(bare_engine).get_table_names()


def test_a_database_made_by_create_all_on_main_is_recognised_as_head(bare_engine: Engine) -> None:
    """Builds from before the version table with today's tables are stamped, not refused."""
    SQLModel.metadata.create_all(bare_engine)
    state = read_state(bare_engine)
    assert (state.current, state.recognised) == (None, state.head)
    upgrade(bare_engine, back_up=False)
    assert read_state(bare_engine).current == state.head


def test_an_unknown_schema_is_refused_with_what_differs(bare_engine: Engine) -> None:
    create_release_schema(bare_engine)
    with bare_engine.begin() as connection:
        connection.execute(text("ALTER TABLE legal_aid_case DROP COLUMN source"))
    with pytest.raises(SchemaError, match=r"legal_aid_case.*source"):
        upgrade(bare_engine, back_up=False)
    assert "alembic_version" not in inspect(bare_engine).get_table_names()


def test_a_revision_from_a_newer_version_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="9999"):
        upgrade(engine, back_up=False)


def test_a_failing_revision_leaves_the_database_as_it_was(bare_engine: Engine) -> None:
    """0001 succeeds, 0002 meets a view in its way: nothing of either stays."""
    with bare_engine.begin() as connection:
        connection.execute(text("CREATE VIEW clause_features AS SELECT 1 AS x"))
    with pytest.raises(sa.exc.DatabaseError):
        upgrade(bare_engine, back_up=False)
    assert inspect(bare_engine).get_table_names() == []
    assert read_state(bare_engine).current is None


def test_two_upgrades_at_once_apply_each_revision_once(bare_engine: Engine) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(bare_engine, back_up=False)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert read_state(bare_engine).is_at_head


def test_postgresql_is_not_altered_at_start(postgres_url: str) -> None:
    engine = create_engine_for(postgres_url)
    try:
        create_release_schema(engine)
        with pytest.raises(SchemaError, match=re.escape("policybot db upgrade")):
            prepare_schema(engine)
        assert "alembic_version" not in inspect(engine).get_table_names()
        drop_everything(engine)
        with pytest.raises(SchemaError, match="空的"):
            prepare_schema(engine)  # an empty database too: `db upgrade` creates it
        assert inspect(engine).get_table_names() == []
        init_db(engine)
        assert prepare_schema(engine) is None
    finally:
        engine.dispose()


def test_sqlite_upgrades_at_start_after_a_backup(tmp_path: Path) -> None:
    database = tmp_path / "policybot.db"
    engine = create_engine_for(f"sqlite:///{database}")
    try:
        create_release_schema(engine)
        fill(engine)
        before = dump_rows(engine)
        report = prepare_schema(engine)
        assert report is not None and report.backup is not None
        assert re.fullmatch(r"policybot\.db\.bak-0001-\d{8}T\d{6}Z", report.backup.name)
        assert read_state(engine).is_at_head
        assert dump_rows(engine, columns=release_columns()) == before
        copy = create_engine_for(f"sqlite:///{report.backup}")
        try:
            assert read_state(copy).current is None and dump_rows(copy) == before
        finally:
            copy.dispose()
        # At head, a start neither upgrades nor copies again.
        again = prepare_schema(engine)
        assert again is not None and not again.changed and again.backup is None
        assert len(list(tmp_path.glob("policybot.db.bak-*"))) == 1
    finally:
        engine.dispose()


def test_sqlite_batch_operations_keep_the_children_of_a_copied_table(tmp_path: Path) -> None:
    """A future revision that rebuilds `document` (SQLite's copy-and-rename) must not cascade
    its ON DELETE to the clauses: the migration transaction has foreign keys off."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'policybot.db'}")
    try:
        init_db(engine)
        fill(engine)
        with migration_transaction(engine) as connection:
            operations = Operations(MigrationContext.configure(connection))
            with operations.batch_alter_table("document", recreate="always") as batch:
                batch.add_column(sa.Column("note", sa.Text(), nullable=True))
        rows = dump_rows(engine, frozenset({"clause", "curated_clause"}))
        assert len(rows["clause"]) == 2 and len(rows["curated_clause"]) == 1
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
