"""Statements read on every request of a kind, run without the SQL layer's per-call work.

A `Prepared` statement is written with SQLAlchemy like any other, compiled once per database dialect, and run
straight on the driver connection under a `Connection` (so inside that connection's transaction): no cache key, no
execution context, no result objects. Rows come back as named tuples, read like the SQL layer's rows. For a small
read this is most of its cost: a token list of an account took three such statements at ~150 µs each through the
SQL layer and ~15 µs each here.

Only plain values cross: integers, text and bytes, which both drivers return as Python does (SQLite's booleans are
0/1: read them with `bool`). An expanding `IN` parameter (`bindparam(name, expanding=True)`) takes a list.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect

_EXPANDING = "__[POSTCOMPILE_{}]"


class Prepared:
    """A SELECT compiled once per dialect (see the module doc)."""

    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._row: Any = namedtuple("Row", [column.key for column in statement.selected_columns])  # type: ignore[misc]
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[Any]:
        compiled = self._compiled.get(connection.dialect.name) or self._compile(connection.dialect)
        sql, values = compiled.bind(params)
        driver: Any = connection.connection.driver_connection
        cursor = driver.cursor()
        try:
            cursor.execute(sql, values)
            make = self._row._make
            return [make(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def _compile(self, dialect: Dialect) -> _Compiled:
        with self._lock:
            compiled = self._compiled.get(dialect.name)
            if compiled is None:
                compiled = _Compiled(self._statement, dialect)
                self._compiled[dialect.name] = compiled
            return compiled


class _Compiled:
    """One dialect's text of a statement, and how its parameters are passed: in order for SQLite's `?`, by name
    for psycopg's `%(name)s`."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self._sql = compiled.string
        self._positional = dialect.paramstyle == "qmark"
        assert self._positional or dialect.paramstyle == "pyformat", f"unsupported {dialect.paramstyle}"
        self._order: Sequence[str] = compiled.positiontup or []
        self._expanding = {bind.key for bind in compiled.binds.values() if bind.expanding}

    def bind(self, params: Mapping[str, Any]) -> tuple[str, Sequence[Any] | Mapping[str, Any]]:
        if not self._expanding:
            return self._sql, ([params[name] for name in self._order] if self._positional else params)
        sql = self._sql
        if self._positional:
            values: list[Any] = []
            for name in self._order:
                if name in self._expanding:
                    items = list(params[name])
                    sql = sql.replace(_EXPANDING.format(name), _placeholders(len(items), "?"), 1)
                    values.extend(items)
                else:
                    values.append(params[name])
            return sql, values
        named = {name: value for name, value in params.items() if name not in self._expanding}
        for name in self._expanding:
            items = list(params[name])
            keys = [f"{name}_{n}" for n in range(len(items))]
            sql = sql.replace(_EXPANDING.format(name), ", ".join(f"%({key})s" for key in keys) or "NULL", 1)
            named.update(zip(keys, items, strict=True))
        return sql, named


def _placeholders(count: int, mark: str) -> str:
    # `IN ()` is not SQL: an empty list matches nothing, as `IN (NULL)` does.
    return ", ".join([mark] * count) if count else "NULL"
