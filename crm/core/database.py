"""Connection settings: JSON through `jsontext`, and SQLite files shared by the web and the worker.

With the default rollback journal a writer locks readers out, and a second writer fails at once
with "database is locked". The worker thread of `flask crm serve` (and any `flask crm worker`
on the same file) writes while pages are served, so every SQLite connection uses write-ahead
logging, where readers never wait for the writer, and waits up to `BUSY_TIMEOUT_MS` for another
writer to finish instead of failing.

That wait only helps a transaction that asks for the write lock before it reads. A transaction
that has read and then writes cannot wait: if another writer committed in between, its snapshot
is stale and SQLite answers "database is locked" at once; and a check-then-insert of two
requests (a firm's year) both pass the check. So the transactions meant to write begin with
`BEGIN IMMEDIATE`, which takes the write lock first and waits for it: those of a form post or
other unsafe request, and those opened under `write_transactions` (jobs, periodic work,
`flask crm` commands). Writers then queue one after another for the whole of their
transactions, and readers in WAL are not held up. Other transactions keep Python's sqlite3
default, which reads outside any transaction and opens one just before the first write, so a
page that only reads never waits for a writer, however long its transaction.

A long write transaction (an import) grows the write-ahead log; `journal_size_limit` shrinks
the file back once the log has been copied into the database, and the worker checkpoints it
periodically (`checkpoint`).
"""

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import Connection, Engine, event

from crm.core import jsontext

#: Engine options of every app: JSON columns are written and read by `jsontext` (orjson).
ENGINE_OPTIONS = {"json_serializer": jsontext.dumps, "json_deserializer": jsontext.loads}
#: How long an SQLite connection waits for another connection's write transaction to end.
BUSY_TIMEOUT_MS = 15000
#: The size the write-ahead log is cut back to once it has been checkpointed.
JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
#: Requests of these methods only read; every other method's transactions write.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


_writing: ContextVar[bool | None] = ContextVar("writing", default=None)


@contextmanager
def write_transactions(writing: bool = True) -> Iterator[None]:
    """Open the transactions of the block, in this thread, ready to write (or not)."""
    token = _writing.set(writing)
    try:
        yield
    finally:
        _writing.reset(token)


def opens_for_writing() -> bool:
    """Tell whether a transaction opened now takes SQLite's write lock at once."""
    writing = _writing.get()
    if writing is not None:
        return writing
    return has_request_context() and request.method not in SAFE_METHODS


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        # Set the timeout first: switching a file to WAL needs a moment without other writers.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}")
    finally:
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if opens_for_writing():
        # sqlite3 emits no BEGIN of its own while `isolation_level` is None.
        driver.isolation_level = None
        connection.info["begins_immediate"] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.info.pop("begins_immediate", False):
        _restore_own_begin(connection)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _end_sqlite(connection: Connection) -> None:
    if connection.dialect.name == "sqlite" and connection.info.pop("begins_immediate", False):
        _restore_own_begin(connection)


def _restore_own_begin(connection: Connection) -> None:
    """Let sqlite3 open the connection's next transaction, just before its first write."""
    connection.connection.driver_connection.isolation_level = ""


def checkpoint(engine: Engine) -> tuple[int, int, int] | None:
    """Copy an SQLite database's write-ahead log into it and empty the log file.

    Return SQLite's (busy, log pages, pages copied), or None for other databases. Busy means
    a reader still used the log; the next checkpoint finishes the work.
    """
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as connection:
        # Outside any transaction: a checkpoint cannot run inside one.
        cursor = connection.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return tuple(cursor.fetchone())


def schema_object_filter(dialect_name: str):
    """Return an Alembic `include_object` that leaves out what is not built on `dialect_name`.

    An index declared for one database only (`Index(...).ddl_if(dialect="postgresql")`) is not
    created on the other, and autogenerate, which does not read that condition, would report it
    missing there.
    """

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect_name)

    return include_object


def insert_or_ignore(model, key: Sequence[str]):
    """Return an INSERT into `model`'s table that skips the rows whose `key` columns (a unique
    constraint) are taken: ON CONFLICT DO NOTHING, on SQLite and on PostgreSQL alike.

    A row a concurrent transaction is inserting waits for it to end and is then skipped, so two
    writers of the same rows create each once.
    """
    from crm.extensions import db

    # The table, not the mapped class: an ORM insert reports no row count on PostgreSQL.
    insert = _dialect_insert(db.session.get_bind().dialect.name)
    return _IgnoringInsert(insert(model.__table__), list(key))


def upsert(connection, table, rows: list[dict], key: list[str], columns: dict, add=False) -> None:
    """Insert `rows` into `table`, or where their `key` columns are taken, set `columns` (name →
    the table's column) to the row's values, or with `add` add the row's values to them: ON
    CONFLICT DO UPDATE, on SQLite and on PostgreSQL alike.

    Adding commutes: two transactions adding to the same row both count, in either order.
    """
    stmt = _dialect_insert(connection.dialect.name)(table)
    new = {name: getattr(stmt.excluded, name) for name in columns}
    values = {name: column + new[name] if add else new[name] for name, column in columns.items()}
    connection.execute(stmt.on_conflict_do_update(index_elements=key, set_=values), rows)


def _dialect_insert(dialect_name: str):
    """Return the INSERT constructor of the dialect, which knows ON CONFLICT."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class _IgnoringInsert:
    """An insert whose ON CONFLICT DO NOTHING is added once its rows are known."""

    def __init__(self, statement, key: list[str]):
        self._statement = statement
        self._key = key

    def values(self, **values):
        """Insert one row of `values`."""
        return self._statement.values(**values).on_conflict_do_nothing(index_elements=self._key)

    def many(self):
        """Insert the rows given when it is executed, a list of dicts (one statement)."""
        return self._statement.on_conflict_do_nothing(index_elements=self._key)

    def from_select(self, names: Sequence[str], select):
        """Insert the rows of `select` into the columns `names`.

        The select gets a WHERE clause, which SQLite needs to read ON CONFLICT after a select.
        """
        from sqlalchemy import text

        select = select.where(text("1 = 1"))
        return self._statement.from_select(names, select).on_conflict_do_nothing(
            index_elements=self._key
        )
