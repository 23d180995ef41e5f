"""Connection settings: JSON through `jsontext`, and SQLite files shared by the web and the worker.

With the default rollback journal a writer locks readers out, and a second writer fails at once
with "database is locked". The worker thread of `flask crm serve` (and any `flask crm worker`
on the same file) writes while pages are served, so every SQLite connection uses write-ahead
logging, where readers never wait for the writer, and waits up to `BUSY_TIMEOUT_MS` for another
writer to finish instead of failing.
"""

import sqlite3

from sqlalchemy import Engine, event

from crm.core import jsontext

#: Engine options of every app: JSON columns are written and read by `jsontext` (orjson).
ENGINE_OPTIONS = {"json_serializer": jsontext.dumps, "json_deserializer": jsontext.loads}
#: How long an SQLite connection waits for another connection's write transaction to end.
BUSY_TIMEOUT_MS = 5000


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        # Set the timeout first: switching a file to WAL needs a moment without other writers.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()
