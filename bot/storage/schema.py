"""The database schema's version: the Alembic revisions in `bot/storage/migrations/`, run
programmatically (no alembic.ini), every upgrade in one transaction.

SQLite, the embedded default, upgrades itself at start after a backup copy of its file.
PostgreSQL changes only on `policybot db upgrade`: several processes never race to alter one
schema, and a start behind head refuses with the command to run.
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from bot.storage.backups import back_up_sqlite, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
UPGRADE_COMMAND = "policybot db upgrade"
# Revisions whose schema a build made with create_all, before there was a version table, newest
# first: an unstamped database whose tables match one is stamped with it, then upgraded.
# 0001 is release 6a79bf1; 0002 is main from 08df55a on (clause_features), 0003 main with the
# staff console's tables, 0004 with the job postings' and 0005 with the senders' claims, never
# released but in developers' hands.
CREATE_ALL_REVISIONS = ("0005", "0004", "0003", "0002", "0001")
# Any fixed number: the PostgreSQL advisory lock that lets one upgrade at a time alter the schema.
UPGRADE_LOCK_KEY = 6_079_191_301

Columns = Mapping[str, frozenset[str]]


class SchemaError(Exception):
    """The schema cannot be used as it is; the message is for the operator and names the fix."""


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database stands: its stamped revision, or the one its tables were recognised as."""

    current: str | None  # the alembic_version row; None when there is none
    recognised: str | None  # `current`, or the create_all-era revision an unstamped schema matches
    head: str
    has_tables: bool
    differences: tuple[str, ...] = ()  # why an unstamped schema was not recognised

    @property
    def is_at_head(self) -> bool:
        # Stamped: a create_all-era schema that matches head still needs its version row.
        return self.current == self.head

    @property
    def is_unrecognised(self) -> bool:
        return self.has_tables and self.recognised is None


@dataclass(frozen=True, slots=True)
class UpgradeReport:
    before: str | None  # None: the database was empty
    after: str
    backup: Path | None
    stamped: bool = False  # a create_all-era schema got its version row first

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.stamped


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration in code; env.py runs its revisions on `connection`."""
    # Alembic is imported where it is used: a start on a database at head never needs it.
    from alembic.config import Config

    # Quiet: Alembic's own progress lines are not for the bot's stdout (`db` prints its own).
    config = Config(cmd_opts=Namespace(quiet=True))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def numbered_head() -> str:
    """The newest revision by its file name (revisions are numbered 0001, 0002, …), read without
    Alembic: a start on a database already at head is then a one-row look-up."""
    versions = (MIGRATIONS / "versions").glob("[0-9]*.py")
    return max(path.name.split("_", 1)[0] for path in versions)


def stamped_at_head(engine: Engine) -> str | None:
    """The head revision if the database's version row is that, else None (look further)."""
    head = numbered_head()
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        stamped = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return head if [row[0] for row in stamped] == [head] else None


def revisions() -> list[Script]:
    """Every revision, the first one first."""
    return list(reversed(list(script_directory().walk_revisions())))


def read_state(engine: Engine) -> SchemaState:
    with engine.connect() as connection:
        return _state_of(connection, script_directory())


def upgrade(engine: Engine, *, back_up: bool) -> UpgradeReport:
    """Bring the database to head in one transaction, stamping a create_all-era schema first;
    with `back_up`, a SQLite file with tables is copied beside itself before anything changes."""
    head = stamped_at_head(engine)
    if head is not None:
        return UpgradeReport(head, head, None)
    from alembic import command

    script = script_directory()
    state = read_state(engine)
    _refuse_unusable(state)
    if state.is_at_head:
        return UpgradeReport(state.current, state.head, None)
    database = sqlite_file(engine.url)
    copy = None
    # Stamping alone changes no table, so only a real upgrade of existing tables is copied.
    if back_up and database is not None and state.has_tables and state.recognised != state.head:
        copy = back_up_sqlite(database, state.recognised or "base")
    with migration_transaction(engine) as connection:
        # Read again under the lock: another process may have upgraded meanwhile.
        state = _state_of(connection, script)
        _refuse_unusable(state)
        stamped = state.current is None and state.recognised is not None
        if state.current is None and state.recognised is not None:
            command.stamp(alembic_config(connection), state.recognised)
        command.upgrade(alembic_config(connection), "head")
    return UpgradeReport(state.recognised, state.head, copy, stamped=stamped)


def require_head(engine: Engine) -> SchemaState:
    """The state, if the database is at head; else SchemaError naming the command to run."""
    head = stamped_at_head(engine)
    if head is not None:
        return SchemaState(head, head, head, has_tables=True)
    state = read_state(engine)
    _refuse_unusable(state)
    if not state.is_at_head:
        if not state.has_tables:
            where = "是空的（还没有表）"
        elif state.current is None:
            where = f"是 {state.recognised}（create_all 建的表，还没有版本号）"
        else:
            where = f"是 {state.current}"
        raise SchemaError(
            f"数据库错误：数据库结构{where}，本版本需要 {state.head}。"
            f"请先运行 `{UPGRADE_COMMAND}`（PostgreSQL 不在启动时自动升级）。"
            f"(database schema is behind head {state.head}: run `{UPGRADE_COMMAND}`)"
        )
    return state


def prepare_schema(engine: Engine) -> UpgradeReport | None:
    """At start: SQLite upgrades itself (after a backup), an empty file built at head at once;
    any other database must be at head."""
    if engine.dialect.name == "sqlite":
        created = create_empty_at_head(engine)
        if created is not None:
            return UpgradeReport(None, created, None)
        return upgrade(engine, back_up=True)
    require_head(engine)
    return None


def create_empty_at_head(engine: Engine) -> str | None:
    """An empty SQLite database built from the models and stamped at head, as Alembic's cookbook
    builds one from scratch: the schema every revision run in turn gives (the schema tests
    compare the two), without loading Alembic at a first start. Returns the head, or None when
    the database has tables (then it is upgraded by its revisions).

    Only for a start: `new_revision` needs a scratch database made by the revisions, not from
    the models it is compared with.
    """
    # Every module with tables, so the metadata holds them all.
    from sqlmodel import SQLModel

    import bot.storage.console_models
    import bot.storage.job_models
    import bot.storage.models  # noqa: F401

    if inspect(engine).get_table_names():
        return None
    head = numbered_head()
    with _sqlite_migration_transaction(engine) as connection:
        # Under the write lock: another process may have built it meanwhile.
        if inspect(connection).get_table_names():
            return None
        SQLModel.metadata.create_all(connection)
        # The version table exactly as Alembic creates it.
        connection.execute(
            text(
                f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
                f"CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))"
            )
        )
        connection.execute(text(f"INSERT INTO {VERSION_TABLE} VALUES (:head)"), {"head": head})
    return head


def check_models(connection: Connection) -> str | None:
    """`alembic check` on a database at head: what the models have that the revisions don't
    (tables, columns, types, nullability, indexes, unique constraints, server defaults), or None."""
    from alembic import command
    from alembic.util.exc import AutogenerateDiffsDetected

    try:
        command.check(alembic_config(connection))
    except AutogenerateDiffsDetected as differences:
        return str(differences)
    return None


def new_revision(engine: Engine, message: str) -> Path | None:
    """The next numbered revision, autogenerated from what the models have that head lacks, to be
    reviewed; `engine` is a scratch database, brought to head first. None when nothing differs."""
    from alembic import command
    from alembic.script import Script

    upgrade(engine, back_up=False)
    with engine.connect() as connection:
        if check_models(connection) is None:
            return None
        head = script_directory().get_current_head()
        assert head is not None and head.isdigit(), "revisions are numbered 0001, 0002, …"
        script = command.revision(
            alembic_config(connection),
            message=message,
            autogenerate=True,
            rev_id=f"{int(head) + 1:04d}",
        )
    assert isinstance(script, Script)
    return Path(script.path)


def describe(state: SchemaState) -> str:
    """One line for `db current`."""
    if state.is_unrecognised:
        return "无法识别的数据库结构：" + "；".join(state.differences)
    if not state.has_tables and state.current is None:
        return f"空数据库（没有表）；`{UPGRADE_COMMAND}` 会建到 {state.head}"
    if state.is_at_head:
        return f"{state.current}（最新）"
    if state.current is None:
        return (
            f"{state.recognised}（create_all 建的表，还没有版本号；最新是 {state.head}）："
            f"运行 `{UPGRADE_COMMAND}`"
        )
    return f"{state.current}，落后于 {state.head}：运行 `{UPGRADE_COMMAND}`"


def _refuse_unusable(state: SchemaState) -> None:
    if state.is_unrecognised:
        raise SchemaError(
            "数据库错误：库里已有表，但不是 policybot 6a79bf1 或之后的版本建的，无法升级："
            + "；".join(state.differences)
            + " (unrecognised schema)"
        )


def _state_of(connection: Connection, script: ScriptDirectory) -> SchemaState:
    from alembic.runtime.migration import MigrationContext
    from alembic.util.exc import CommandError

    head = script.get_current_head()
    assert head is not None, "bot/storage/migrations/versions has no revision"
    tables = frozenset(inspect(connection).get_table_names()) - {VERSION_TABLE}
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError:
            raise SchemaError(
                f"数据库错误：数据库结构版本 {current} 比本版本的 {head} 新，本版本不认识；"
                f"请用更新的 policybot。(database revision {current} is unknown to this version)"
            ) from None
        return SchemaState(current, current, head, has_tables=bool(tables))
    if not tables:
        return SchemaState(None, None, head, has_tables=False)
    found = _columns_of(connection, tables)
    for revision in CREATE_ALL_REVISIONS:
        if not _differences(found, _schema_at(revision)):
            return SchemaState(None, revision, head, has_tables=True)
    differences = _differences(found, _schema_at(CREATE_ALL_REVISIONS[-1]))
    return SchemaState(None, None, head, has_tables=True, differences=tuple(differences))


def _columns_of(connection: Connection, tables: frozenset[str]) -> dict[str, frozenset[str]]:
    inspector = inspect(connection)
    return {
        table: frozenset(column["name"] for column in inspector.get_columns(table))
        for table in tables
    }


def _schema_at(revision: str) -> dict[str, frozenset[str]]:
    """The tables and columns `revision` has, read from a scratch in-memory database."""
    from alembic import command

    scratch = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with scratch.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
            tables = frozenset(inspect(connection).get_table_names()) - {VERSION_TABLE}
            return _columns_of(connection, tables)
    finally:
        scratch.dispose()


def _differences(found: Columns, expected: Columns) -> list[str]:
    """What keeps `found` from holding `expected`'s tables with exactly their columns."""
    differences = []
    for table, columns in sorted(expected.items()):
        if table not in found:
            differences.append(f"缺表 {table}")
        elif found[table] != columns:
            missing, extra = sorted(columns - found[table]), sorted(found[table] - columns)
            parts = ([f"缺列 {', '.join(missing)}"] if missing else []) + (
                [f"多出列 {', '.join(extra)}"] if extra else []
            )
            differences.append(f"表 {table} " + "，".join(parts))
    return differences


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection holding the one transaction an upgrade runs in, committed if all went well."""
    if engine.dialect.name == "sqlite":
        with _sqlite_migration_transaction(engine) as connection:
            yield connection
        return
    with engine.begin() as connection:
        # PostgreSQL's DDL is transactional; the lock makes a second `db upgrade` wait, then
        # find the schema at head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
        yield connection


@contextmanager
def _sqlite_migration_transaction(engine: Engine) -> Iterator[Connection]:
    # Python's sqlite3 opens transactions only before INSERT/UPDATE/DELETE, so DDL would commit
    # statement by statement: the driver is put in autocommit mode and BEGIN is ours. Foreign keys are off while tables are
    # copied and renamed (batch mode): dropping a parent table would otherwise cascade to its
    # children. The pragma is a no-op inside a transaction, so it is set before BEGIN and the
    # keys are checked before COMMIT.
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        isolation_level = driver.isolation_level
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        driver.isolation_level = None
        try:
            # IMMEDIATE: take the write lock now, so two starting processes upgrade one at a time.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(f"数据库错误：升级后外键不一致，已回滚：{broken[:5]}")
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        finally:
            driver.isolation_level = isolation_level
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
