"""Write a batch's created rows in SQL, straight from the stored dry run.

A large import is mostly new firms with their yearly figures. Reading each stored row back into
Python only to send it to the database again costs several times what the database needs, so
the new rows are written with `INSERT … SELECT` from the JSON the dry run stored
(`crm.excel.stored`), and their audit entries with one more `INSERT … SELECT` each, whose
snapshot holds the very values `crm.core.audit.snapshot` keeps (the same keys and text; only
PostgreSQL spaces its JSON differently). New firms take their ids in their stored rows first, in
row order, so their yearly figures find them without a join. SQLite and PostgreSQL differ in how
a JSON member is read, how ids are drawn and how a value becomes text, which `_Sqlite` and
`_Postgres` spell out.
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, Table, bindparam, text

from crm.core.audit import UNAUDITED, AuditContext, AuditEntry
from crm.excel.columns import ImportKind
from crm.excel.models import ImportRow
from crm.excel.stored import TABLES
from crm.extensions import db

#: Values a new row takes when the workbook leaves them out (as the Python path gives them).
DEFAULTS = {
    "firms": {"is_above_scale": False, "is_incubator": False, "uscc_check_accepted": False},
    "ip_items": {"status": "valid", "acquisition": "own"},
    "firm_contacts": {"is_primary": False},
}
#: Tables a new firm's row may add to besides its kind's own (a firm list's contact person).
ALSO_CREATED = {"firms": ("firm_contacts",)}
ROWS = ImportRow.__tablename__
#: Columns a new row's statement sets itself.
_OWN = frozenset({"id", "firm_id", "created_at", "updated_at"})
AUDIT = AuditEntry.__tablename__
#: PostgreSQL's working memory for the sorts of one apply (50,000 firms sort in about 40 MB).
SORT_MEMORY = "64MB"


class _Sqlite:
    """SQLite's JSON1 functions; a value's column affinity converts it as it is inserted."""

    TRUE, FALSE = "1", "0"
    #: A value as audit text, by column type; text, and dates (kept as ISO text), are already.
    TEXT = (
        (Boolean, "CASE WHEN {v} IS NULL THEN NULL WHEN {v} THEN 'true' ELSE 'false' END"),
        (
            Numeric,
            "CASE WHEN {v} IS NULL THEN NULL "
            "WHEN {v} = CAST({v} AS INTEGER) THEN CAST(CAST({v} AS INTEGER) AS TEXT) "
            "ELSE printf('%.{scale}f', {v}) END",
        ),
        (DateTime, "replace({v}, ' ', 'T')"),
        (Integer, "CAST({v} AS TEXT)"),
    )

    def record(self, document: str, at: str | int) -> tuple[str, Callable]:
        """Return what to join to read the object at key or index `at` of a stored document,
        and the expression of one of its members as a value of that member's column."""
        where = f"[{at}]" if isinstance(at, int) else f".{at}"
        return "", lambda column: f"json_extract({document}, '${where}.{column.name}')"

    def elements(self, document: str, path: str, alias: str) -> str:
        return f"json_each({document}, '$.{path}') AS {alias}"

    def first_member(self, element: str) -> str:
        return f"json_extract({element}, '$[0]')"

    def prepare(self) -> None:
        pass

    def next_ids(self, table: Table) -> str:
        # SQLite has one writer at a time, and this statement writes: the ids are free. Ids of
        # rows deleted since (an undone import's) stay unused, so no history is inherited.
        highest = (
            f"(SELECT COALESCE(MAX(used), 0) FROM (SELECT MAX(id) AS used FROM {table.name} "
            f"UNION ALL SELECT MAX(entity_id) FROM {AUDIT} WHERE entity = '{table.name}'))"
        )
        return f"{highest} + ROW_NUMBER() OVER (ORDER BY row_number)"

    def object(self, pairs: list[str]) -> str:
        return f"json_patch('{{}}', json_object({', '.join(pairs)}))"


class _Postgres:
    """PostgreSQL's jsonb functions: each stored document is parsed once per row."""

    TRUE, FALSE = "true", "false"
    #: A value as audit text, by column type; text is already.
    TEXT = (
        (Boolean, "CASE WHEN {v} THEN 'true' WHEN NOT {v} THEN 'false' END"),
        (Numeric, "CASE WHEN {v} = trunc({v}) THEN trunc({v})::text ELSE {v}::text END"),
        (DateTime, "to_char({v}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"),
        (Date, "to_char({v}, 'YYYY-MM-DD')"),
        (Integer, "{v}::text"),
    )

    def __init__(self, dialect) -> None:
        self.dialect = dialect

    def record(self, document: str, at: str | int) -> tuple[str, Callable]:
        # As jsonb, parsed once per row: a member is then found without reading the text again.
        if isinstance(at, int):
            join, found = "", f"{document} -> {at}"
        else:
            # OFFSET 0 keeps the planner from copying the parse into every member's expression.
            parsed = f"SELECT ({document})::jsonb -> '{at}' AS doc OFFSET 0"
            join, found = f", LATERAL ({parsed}) AS p", "p.doc"
        return join, lambda c: f"CAST({found} ->> '{c.name}' AS {c.type.compile(self.dialect)})"

    def elements(self, document: str, path: str, alias: str) -> str:
        return f"LATERAL jsonb_array_elements(({document})::jsonb -> '{path}') AS {alias}(value)"

    def first_member(self, element: str) -> str:
        return f"{element} ->> 0"

    def prepare(self) -> None:
        # The statements sort tens of thousands of wide rows: with the default 4 MB of working
        # memory each sort spills to disk, which took a quarter of the apply. Until commit only.
        _run(f"SET LOCAL work_mem = '{SORT_MEMORY}'")

    def next_ids(self, table: Table) -> str:
        return f"nextval(pg_get_serial_sequence('{table.name}', 'id'))"

    def object(self, pairs: list[str]) -> str:
        return f"json_strip_nulls(json_build_object({', '.join(pairs)}))::text"


def _literal(sql, value) -> str:
    """Return a default value as an SQL literal of the dialect."""
    return sql.TRUE if value is True else sql.FALSE if value is False else f"'{value}'"


def _as_text(sql, column, name: str) -> str:
    """Return the expression of a stored value as the text `crm.core.audit.encode` gives it.

    Each dialect lists its expression by column type (`TEXT`); a type it does not list is
    text already.
    """
    for kind, template in sql.TEXT:
        if isinstance(column.type, kind):
            return template.format(v=name, scale=getattr(column.type, "scale", None) or 0)
    return name


def _sql():
    dialect = db.session.connection().dialect
    return _Postgres(dialect) if dialect.name == "postgresql" else _Sqlite()


def _run(statement: str, **params):
    # Datetimes are bound as SQLAlchemy binds them, so they compare equal to stored ones.
    times = [
        bindparam(k, v, type_=DateTime()) for k, v in params.items() if isinstance(v, datetime)
    ]
    plain = {k: v for k, v in params.items() if not isinstance(v, datetime)}
    return db.session.execute(text(statement).bindparams(*times), plain)


#: The stored rows a batch creates.
CREATED = "r.batch_id = :batch AND r.action = 'create'"


def write_creates(
    batch_id: int,
    kind: ImportKind,
    context: AuditContext,
    now: datetime,
    written: dict[str, list[str]] | None = None,
) -> set[int]:
    """Write the batch's stored creates with their audit entries; return the firms touched.

    `written` names, by table, every column the stored creates give a value (the dry run
    records it); the others are left to their defaults without reading the JSON for them,
    which on SQLite is one parse of the document per column and row. None: read them all.
    """
    sql = _sql()
    sql.prepare()
    children = [TABLES[kind.records]]
    children += [
        TABLES[name]
        for name in ALSO_CREATED.get(kind.code, ())
        if written is None or name in written
    ]
    tables = [TABLES["firms"], *children] if kind.creates_firms else children
    # The rows written here: above these ids and stamped with this apply's time (another
    # import committing meanwhile has another time).
    before = {t.name: _run(f"SELECT COALESCE(MAX(id), 0) FROM {t.name}").scalar() for t in tables}
    given = (lambda table: None) if written is None else (lambda table: set(written.get(table, ())))
    if kind.creates_firms:
        _create_firms(sql, batch_id, now, given("firms"))
    for child in children:
        _create_children(sql, batch_id, child, now, given(child.name), len(children) > 1)
    params = {"batch": batch_id, "now": now, "source": context.source, "actor": context.actor_id}
    for table in tables:
        firm_column = "id" if table is TABLES["firms"] else "firm_id"
        where = "id > :before AND created_at = :now"
        params["before"] = before[table.name]
        _audit(sql, table, firm_column, where, params, given(table.name))
    touched = _run(f"SELECT DISTINCT r.firm_id FROM {ROWS} r WHERE {CREATED}", batch=batch_id)
    return {firm_id for (firm_id,) in touched if firm_id is not None}


def _create_firms(sql, batch_id: int, now: datetime, given: set[str] | None) -> None:
    """Give each new firm its id in its stored row, in row order, then insert the firms."""
    table = TABLES["firms"]
    _run(
        f"UPDATE {ROWS} SET firm_id = n.firm_id FROM (SELECT id AS row_id, "
        f"{sql.next_ids(table)} AS firm_id FROM (SELECT id, row_number FROM {ROWS} r "
        f"WHERE {CREATED} ORDER BY row_number) ordered) n WHERE {ROWS}.id = n.row_id",
        batch=batch_id,
    )
    join, member = sql.record("r.writes", "f")
    defaults = DEFAULTS["firms"]
    # Every column: one the workbook left out is NULL or its default, as it would be anyway.
    names = [c.name for c in table.columns if c.name not in _OWN]
    values = [_value(sql, member, table.c[name], defaults, given) for name in names]
    _run(
        f"INSERT INTO {table.name} (id, {', '.join(names)}, created_at, updated_at) "
        f"SELECT r.firm_id, {', '.join(values)}, :now, :now FROM {ROWS} r{join} "
        f"WHERE {CREATED} ORDER BY r.firm_id",
        batch=batch_id,
        now=now,
    )


def _create_children(
    sql, batch_id: int, table: Table, now: datetime, given: set[str] | None, mixed: bool
) -> None:
    # Every child of a create row is a new row (`plan.settle`): a new firm has no stored rows,
    # and a row adding to an existing firm is a create only when all its children are new rows
    # of the kind's own table. So no element is checked for its id, and its table only when
    # the creates are `mixed` (a firm list with contacts): on SQLite that is one more parse of
    # each element, paid only by such a batch.
    elements = sql.elements("r.writes", "c", "c")
    of_table = f" AND {sql.first_member('c.value')} = '{table.name}'" if mixed else ""
    join, member = sql.record("c.value", 3)
    defaults = DEFAULTS.get(table.name, {})
    names = [c.name for c in table.columns if c.name not in _OWN]
    values = [_value(sql, member, table.c[name], defaults, given) for name in names]
    _run(
        f"INSERT INTO {table.name} (firm_id, {', '.join(names)}, created_at, updated_at) "
        f"SELECT r.firm_id, {', '.join(values)}, :now, :now FROM {ROWS} r, {elements}{join} "
        f"WHERE {CREATED}{of_table}",
        batch=batch_id,
        now=now,
    )


def _value(sql, member: Callable, column, defaults: dict, given: set[str] | None) -> str:
    """Return the expression of a new row's column: its stored value, else its default."""
    default = _literal(sql, defaults[column.name]) if column.name in defaults else "NULL"
    if given is not None and column.name not in given:
        return default
    if column.name in defaults:
        return f"COALESCE({member(column)}, {default})"
    return member(column)


def _audit(
    sql, table: Table, firm_column: str, where: str, params: dict, given: set[str] | None
) -> None:
    """Record one create entry for each row of `table` matching `where`.

    A column no create gives a value, and without a default, is NULL in every new row, and a
    snapshot leaves out what is NULL: it is not read at all.
    """
    defaults = DEFAULTS.get(table.name, {})
    audited = sorted(
        c.name
        for c in table.columns
        if c.name not in UNAUDITED
        and (given is None or c.name in given or c.name in _OWN or c.name in defaults)
    )
    pairs = [f"'{name}', {_as_text(sql, table.c[name], name)}" for name in audited]
    _run(
        f"INSERT INTO {AUDIT} (at, actor_id, source, entity, entity_id, firm_id, action, "
        f"new_value) SELECT :now, :actor, :source, '{table.name}', id, {firm_column}, 'create', "
        f"{sql.object(pairs)} FROM {table.name} WHERE {where} ORDER BY id",
        **params,
    )
