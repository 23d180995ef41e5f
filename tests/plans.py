"""Read the database's plan of a select, to check that a list is served by an index.

On SQLite, `EXPLAIN QUERY PLAN` says `USE TEMP B-TREE FOR ORDER BY` when no index gives the
order. On PostgreSQL the test tables are small, where a sort is cheaper than an index, so sorts
and sequential scans are priced out first (`enable_sort`, `enable_seqscan`): a `Sort` node left
in the plan then means no index can give the order.
"""

from sqlalchemy import Select, text

from crm.extensions import db


def plan(stmt: Select) -> str:
    """Return the plan of `stmt`, one line per step, as the database explains it."""
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        return "\n".join(row[3] for row in rows)
    db.session.execute(text("SET LOCAL enable_sort = off"))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        rows = db.session.execute(text(f"EXPLAIN {compiled}"))
        return "\n".join(row[0] for row in rows)
    finally:
        db.session.execute(text("RESET enable_sort"))
        db.session.execute(text("RESET enable_seqscan"))


def sorts_rows(stmt: Select) -> bool:
    """Tell whether the database sorts the rows of `stmt` instead of reading them in order."""
    explained = plan(stmt)
    if db.engine.dialect.name == "sqlite":
        return "TEMP B-TREE FOR ORDER BY" in explained or "FOR RIGHT PART OF ORDER BY" in explained
    return any(line.strip().startswith(("Sort ", "->  Sort ")) for line in explained.splitlines())
