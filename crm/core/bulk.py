"""Tools for the set-based steps that handle tens of thousands of rows at once (imports).

`insert_rows` and `update_rows` send parameter tuples straight to the driver (inserts by COPY
on PostgreSQL, everything else by `executemany`), converted by each column type's own bind
processor, so rows are stored exactly as SQLAlchemy would store them without the cost of
building and processing one parameter dictionary per row.
`chunks` cuts a list of ids into slices small enough for one `IN (…)` each.
`collection_paused` keeps the cyclic garbage collector out of such a step: the rows it holds
are many and short-lived but acyclic, and collecting them over and over costs a quarter of the
time for nothing. The pause is process-wide (in `flask crm serve` the worker thread shares the
process with the web server), so it lasts only as long as the step; when steps overlap, the
last one to end resumes collection.
"""

import gc
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table

from crm.extensions import db

_lock = threading.Lock()
_paused = 0
#: Values bound in one `IN (…)`: under SQLite's limit of 999 parameters per statement, with room
#: for the statement's own.
IN_CHUNK = 900


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """Yield `values` in slices of at most `size`, for one `IN (…)` each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (reference counting still frees)."""
    global _paused
    with _lock:
        _paused += 1
        was_enabled = gc.isenabled() if _paused == 1 else True
        gc.disable()
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and was_enabled:
                gc.enable()


def _markers(dialect, count: int) -> list[str]:
    """Return the driver's placeholders for `count` positional parameters."""
    if dialect.paramstyle == "qmark":
        return ["?"] * count
    if dialect.paramstyle == "numeric":
        return [f":{n}" for n in range(1, count + 1)]
    return ["%s"] * count  # format, pyformat


def _converted(rows: list[Sequence[Any]], converting: list[tuple[int, Any]]) -> list[list]:
    """Return the rows with the given columns processed; a value repeated is processed once."""
    last: dict[int, tuple[Any, Any]] = {}
    converted = []
    for row in rows:
        row = list(row)
        for n, process in converting:
            value = row[n]
            if value is None:
                continue
            seen = last.get(n)
            if seen is not None and seen[0] is value:
                row[n] = seen[1]
            else:
                row[n] = processed = process(value)
                last[n] = (value, processed)
        converted.append(row)
    return converted


def _driver_rows(dialect, table: Table, columns, rows) -> list:
    """Return the rows with each value converted by its column type's bind processor."""
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in columns]
    converting = [(n, p) for n, p in enumerate(processors) if p is not None]
    return _converted(rows, converting) if converting else rows


def _execute_many(connection, table: Table, statement: str, columns, rows) -> None:
    rows = _driver_rows(connection.dialect, table, columns, rows)
    connection.exec_driver_sql(statement, [tuple(row) for row in rows])


def insert_rows(table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert `rows` (values in the order of `columns`) into `table`.

    PostgreSQL takes them through COPY, several times faster than even a pipelined
    executemany; SQLite through one executemany.
    """
    rows = list(rows)
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    target = f"{quote(table.name)} ({', '.join(quote(c) for c in columns)})"
    if dialect.name == "postgresql":
        rows = _driver_rows(dialect, table, columns, rows)
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    statement = f"INSERT INTO {target} VALUES ({', '.join(_markers(dialect, len(columns)))})"
    _execute_many(connection, table, statement, columns, rows)


def update_rows(
    table: Table, columns: Sequence[str], keys: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Set `columns` of the rows found by `keys`; each row holds the new values, then the keys."""
    rows = list(rows)
    if not rows:
        return
    connection = db.session.connection()
    quote = connection.dialect.identifier_preparer.quote
    marks = _markers(connection.dialect, len(columns) + len(keys))
    named = [f"{quote(name)} = {mark}" for name, mark in zip([*columns, *keys], marks, strict=True)]
    statement = (
        f"UPDATE {quote(table.name)} SET {', '.join(named[: len(columns)])} "
        f"WHERE {' AND '.join(named[len(columns) :])}"
    )
    _execute_many(connection, table, statement, [*columns, *keys], rows)
