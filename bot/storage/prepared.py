"""Statements compiled once and run straight on the driver's connection, for the few that every
message runs (its state read and save, its question's row).

SQLAlchemy's execution path (an execution context, result objects, events) costs more than
SQLite itself for such small statements: most of a plain question's time (scripts/bench_framework.py).
Here the SQL text and the column types' own bind and result conversions are worked out once per
dialect, so a row is written and read exactly as the ORM would, and a call is one DBAPI execute.
The caller gives the DBAPI connection of the transaction it runs in; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

Conversion = Callable[[Any], Any]


class PreparedStatement:
    """One Core statement for one dialect: `rows(driver, values)` runs it with named values."""

    def __init__(
        self,
        statement: ClauseElement,
        dialect: Dialect,
        *,
        value_names: Sequence[str] = (),
        returns: Sequence[ColumnElement[Any]] = (),
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(value_names) or None)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        # qmark (SQLite) binds by position, pyformat (psycopg) by name.
        self._order: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        self._bind: dict[str, Conversion] = {}
        for name, bind in compiled.binds.items():
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                self._bind[name] = convert
        self._result: tuple[Conversion | None, ...] = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returns
        )

    def rows(self, driver: Any, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run on `driver` (a DBAPI connection inside the caller's transaction); the rows it
        returns, converted as their columns' types read them."""
        cursor = driver.cursor()
        try:
            cursor.execute(self.sql, self.parameters(values))
            if not self._result:
                return []
            return [self._converted(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    async def rows_async(self, driver: Any, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """`rows` on psycopg's asyncio connection."""
        cursor = driver.cursor()
        try:
            await cursor.execute(self.sql, self.parameters(values))
            if not self._result:
                return []
            return self.converted(await cursor.fetchall())
        finally:
            await cursor.close()

    def converted(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        return [self._converted(row) for row in rows] if self._result else []

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """`values` as the driver takes them: converted by the columns' types, in order."""
        bound = {
            name: self._bind[name](v) if name in self._bind else v for name, v in values.items()
        }
        return [bound[name] for name in self._order] if self._order is not None else bound

    def _converted(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(row, self._result, strict=True)
        )


@dataclass(frozen=True, slots=True)
class BoundStatement:
    """A prepared statement with its values: what a turn runs now, or sends with its commit."""

    statement: PreparedStatement
    values: Mapping[str, Any]
    # Its result does not depend on what the turn writes (a sequence's next value), so what was
    # read ahead stays good after the turn's writes.
    stable: bool = False

    def rows(self, driver: Any) -> list[tuple[Any, ...]]:
        return self.statement.rows(driver, self.values)


async def run_script(driver: Any, statements: Sequence[BoundStatement | str]) -> Any:
    """Several statements in one message to PostgreSQL (one round trip), on psycopg's asyncio
    connection: psycopg binds each one's values client-side, quoted as literals; the cursor
    returned holds each statement's result in turn (`nextset`)."""
    import psycopg  # PostgreSQL only

    cursor = psycopg.AsyncClientCursor(driver)
    script = "; ".join(
        cursor.mogrify(statement)
        if isinstance(statement, str)
        else cursor.mogrify(
            statement.statement.sql, statement.statement.parameters(statement.values)
        )
        for statement in statements
    )
    await cursor.execute(script)
    return cursor
