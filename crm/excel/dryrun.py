"""The dry run of a batch: read its sheet, map and convert every row, plan it in chunks, and
keep each row's outcome in `import_rows`, so the pages show it and the apply writes it.

Rows stream through in chunks (`CHUNK_ROWS`): the workbook's rows, their conversion and their
plans never all sit in memory at once. Rows repeating another row's record are found when all
chunks are done and marked then. The annotated copy of the sheet, made only when some row has
a problem (in a job of its own, after the dry run is shown), is written from the stored
outcomes. Flushes, never commits.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select

from crm.core import bulk
from crm.core.audit import AuditEntry
from crm.excel import annotate, columns, formulas, sheets, years
from crm.excel.convert import ConvertedRow, MappedColumn, Matchers, convert_rows, readers
from crm.excel.models import ImportBatch, ImportMapping, ImportRow
from crm.excel.plan import FIRM_COLUMNS, Planner, RowPlan, settle
from crm.excel.stored import changed_labels, encode_writes, stored_plans
from crm.extensions import db
from crm.jobs import queue
from crm.spreadsheets.readers import Limits, open_workbook
from crm.spreadsheets.tables import SpreadsheetError, Table, find_table

#: Rows planned and stored together.
CHUNK_ROWS = 2000
#: Rows shown under each column on the mapping page.
SAMPLE_ROWS = 5
#: Rows between two progress updates.
PROGRESS_EVERY = 2000


def stored_file(batch: ImportBatch) -> Path:
    """Return the uploaded file of a batch."""
    return Path(current_app.instance_path) / batch.stored_path


def limits() -> Limits:
    """Return the reading limits of this deployment."""
    return Limits(max_bytes=current_app.config["MAX_CONTENT_LENGTH"])


def _saved_mapping(kind: str, name: str | None) -> dict[str, dict[str, Any]]:
    if not name:
        return {}
    mapping = db.session.scalar(select(ImportMapping).filter_by(kind=kind, name=name))
    return mapping.columns if mapping else {}


def map_columns(batch: ImportBatch, table: Table) -> list[MappedColumn]:
    """Map the table's columns: the batch's own choices, a saved template, or the synonyms."""
    chosen = {c["label"]: c for c in batch.columns or []} if batch.options.get("mapped") else {}
    saved = _saved_mapping(batch.kind, batch.template_name)
    mapped = []
    for position, column in enumerate(table.columns):
        choice = chosen.get(column.label) or saved.get(column.label)
        if choice is not None:
            scale = choice.get("scale")
            mapped.append(
                MappedColumn(
                    position,
                    column.letter,
                    column.label,
                    choice.get("key") or None,
                    Decimal(scale) if scale else None,
                    choice.get("year"),
                )
            )
            continue
        match = columns.match_header(batch.kind, column.label)
        if match is None:
            mapped.append(MappedColumn(position, column.letter, column.label, None))
        else:
            mapped.append(
                MappedColumn(
                    position, column.letter, column.label, match.key, match.scale, match.year
                )
            )
    return mapped


def with_years(
    batch: ImportBatch, kind: columns.ImportKind, table: Table, sheet: str, mapped
) -> tuple[list[MappedColumn], dict[int, str]]:
    """Give the yearly columns whose header names no year the year of the sheet.

    The year is the one given with the import (`--year`, or the question on the dry-run page),
    else the one the sheet tells (`crm.excel.years`). Returns the columns and, by column
    index, where each year given this way came from; columns still without a year are left so.
    """
    yearless = _yearless(kind, mapped)
    if not yearless:
        return mapped, {}
    given = batch.options.get("year")
    if given:
        found = years.SheetYear(int(given), "导入时指定的年度")
    else:
        labels = [c.label for c in mapped]
        found = years.sheet_year(labels, table.titles, sheet, batch.filename)
    if found is None:
        return mapped, {}
    indexes = {c.index for c in yearless}
    out = [replace(c, year=found.year) if c.index in indexes else c for c in mapped]
    return out, dict.fromkeys(indexes, f"{found.year} 年（{found.source}）")


def notices(kind: columns.ImportKind, mapped: list[MappedColumn]) -> list[str]:
    """Return what the user should know about the mapping as a whole."""
    found: list[str] = []
    keys = Counter((c.key, c.year) for c in mapped if c.key)
    if not any(c.key in ("name", "uscc") for c in mapped):
        found.append("未找到「企业名称」或「统一社会信用代码」列，无法确定每行是哪家企业")
    for (key, year), count in keys.items():
        if count > 1:
            label = kind.get(key).label + (f"（{year} 年）" if year else "")
            found.append(f"有 {count} 列都对应「{label}」，请在下方只保留一列")
    for column in mapped:
        if not column.key:
            continue
        definition = kind.get(column.key)
        if definition.parser == "money" and column.scale is None:
            found.append(
                f"{column.letter} 列「{column.label}」未注明单位，按元导入；如为万元请在下方选择"
            )
    return found


def _yearless(kind: columns.ImportKind, mapped: list[MappedColumn]) -> list[MappedColumn]:
    """Return the yearly columns that say no year, in a sheet without a 年度 column."""
    if any(c.key == "year" for c in mapped):
        return []
    return [c for c in mapped if c.key and kind.get(c.key).yearly and c.year is None]


def _held_back(rows: Iterable[ConvertedRow], keys: set[str]) -> Iterator[ConvertedRow]:
    """Yield the rows without the figures of the yearless columns: read and checked, not kept."""
    for row in rows:
        for key in keys:
            row.yearly.pop((key, None), None)
        yield row


def _serialise(
    kind: columns.ImportKind, mapped: list[MappedColumn], year_from: dict[int, str]
) -> list[dict[str, Any]]:
    """Return the columns as a batch keeps them; a year the sheet gave is kept apart.

    A year given by `with_years` is not the column's own: it stays out of "year", so that the
    mapping page and a saved template do not fix it, and is shown from "year_from".
    """
    pending = {c.index for c in _yearless(kind, mapped)}
    return [
        {
            "index": c.index,
            "letter": c.letter,
            "label": c.label,
            "key": c.key or "",
            "scale": str(c.scale) if c.scale is not None else None,
            "year": None if c.index in year_from else c.year,
            "year_from": year_from.get(c.index),
            "needs_year": c.index in pending,
        }
        for c in mapped
    ]


def _sample(value) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _header_test(batch: ImportBatch):
    """Return what counts as a column name: the synonyms, and the labels mapped by hand."""
    labels = {c["label"] for c in batch.columns or [] if c.get("key")}
    labels |= set(_saved_mapping(batch.kind, batch.template_name))
    parts = {part for label in labels for part in label.split(" / ")}
    return lambda text: text in parts or columns.is_known_header(text)


def _find_table(workbook, sheet: str, known) -> tuple[Table, bool]:
    """Find the table by its column names; failing that, take the fullest early row as header.

    The second way lets the user map columns the synonyms do not know; it is said so.
    """
    rows = workbook.rows(sheet)
    try:
        table, guessed = find_table(rows, known), False
    except SpreadsheetError as error:
        if not str(error).startswith("未找到表头"):
            raise
        rows = workbook.rows(sheet)
        table, guessed = find_table(rows, bool), True
    return table, guessed


def _counted(table: Table, progress, sample: list):
    """Yield the table's rows, keeping the first few in `sample` and reporting progress."""
    # Reading and checking the rows is most of a job's time; the rest is reported as 90–100 %.
    total = table.height
    for count, (number, values) in enumerate(table.rows, start=1):
        if count <= SAMPLE_ROWS:
            sample.append((number, values))
        if progress is not None and count % PROGRESS_EVERY == 0:
            shown = f"正在校验第 {number} 行" + (f"（共 {total} 行）" if total else "")
            progress.update(number * 9 // 10, total, shown)
        yield number, values


@dataclass
class DryRun:
    """What a dry run found, besides the rows it stored."""

    counts: Counter = field(default_factory=Counter)
    has_issues: bool = False
    #: The columns the stored creates give a value, by table (the apply reads only those).
    written: dict[str, set[str]] = field(default_factory=dict)

    def note(self, plan: RowPlan) -> None:
        """Count a stored row, and the columns it creates."""
        self.counts[plan.action] += 1
        self.has_issues = self.has_issues or bool(plan.issues)
        if plan.action != "create":
            return
        if plan.firm_values:
            self.written.setdefault("firms", set()).update(plan.firm_values)
        for table, _key, row_id, new, _old in plan.children:
            if row_id is None:
                self.written.setdefault(table, set()).update(new)


@bulk.collection_paused()
def dry_run(batch: ImportBatch, progress=None, user=None) -> DryRun:
    """Dry-run every row of the batch's sheet and store each row's outcome; flush."""
    try:
        with open_workbook(stored_file(batch), limits(), filename=batch.filename) as workbook:
            known = batch.options.get("sheets")
            chosen = batch.options.get("sheet")
            sheet = sheets.choose(workbook, chosen, columns.is_known_header, known)
            if sheet not in workbook.sheet_names:
                raise queue.JobError(f"工作簿中没有名为「{sheet}」的工作表")
            table, guessed = _find_table(workbook, sheet, _header_test(batch))
            kind = columns.KINDS[batch.kind]
            mapped, year_from = with_years(batch, kind, table, sheet, map_columns(batch, table))
            sample: list = []
            rows = convert_rows(
                readers(kind, mapped, Matchers(current_app.config["CITY"])),
                _counted(table, progress, sample),
            )
            if table.formulas:
                rows = formulas.checked(rows, table, kind, mapped)
            pending = {c.key for c in _yearless(kind, mapped)}
            if pending:
                rows = _held_back(rows, pending)
            firm_columns = {FIRM_COLUMNS[c.key] for c in mapped if c.key in FIRM_COLUMNS}
            letters = {c.key: c.letter for c in reversed(mapped) if c.key}
            planner = Planner(kind, user or batch.created_by, batch.options, firm_columns, letters)
            result = _plan_and_store(batch, planner, rows)
            total = sum(result.counts.values())
            found = sheets.found(workbook, sheet, total, known if chosen else None)
    except SpreadsheetError as error:
        raise queue.JobError(str(error)) from None
    if not total:
        raise queue.JobError(sheets.no_rows(batch.filename, sheet, table, found))
    batch.sheet = sheet
    batch.header_rows = list(table.header_rows)
    batch.columns = _serialise(kind, mapped, year_from)
    batch.skipped_rows = {reason: count for reason, count in table.skipped.items() if count}
    batch.notices = notices(kind, mapped)
    if guessed:
        batch.notices.insert(
            0,
            f"未能按列名识别表头，已将第 {table.header_rows[-1]} 行作为表头；"
            "请在下方为各列指定对应的字段后重新预检",
        )
    shown = [[number, [_sample(v) for v in values]] for number, values in sample]
    written = {table: sorted(names) for table, names in result.written.items()}
    batch.options = {
        **batch.options,
        "sample": shown,
        "high_water": high_water(),
        "written": written,
        "sheets": found,
        "has_issues": result.has_issues,
    }
    batch.counts = {action: result.counts.get(action, 0) for action in COUNTED}
    return result


#: The actions every batch reports a count of, in this order.
COUNTED = ("create", "update", "rename", "unchanged", "rejected")


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _plan_and_store(batch: ImportBatch, planner: Planner, rows) -> DryRun:
    db.session.execute(delete(ImportRow).where(ImportRow.batch_id == batch.id))
    result = DryRun()
    for chunk in _chunks(rows, CHUNK_ROWS):
        plans = planner.plan(chunk)
        store_plans(batch.id, plans)
        for plan in plans:
            result.note(plan)
    repeated = planner.duplicates()
    if repeated:
        _mark_repeated(batch.id, planner, repeated, result)
    return result


def store_plans(batch_id: int, plans: list[RowPlan]) -> None:
    """Insert the outcome of each planned row."""
    bulk.insert_rows(
        ImportRow.__table__,
        ("batch_id", "row_number", "action", "firm_id", "firm_name", "writes", "issues"),
        (
            (
                batch_id,
                plan.number,
                plan.action,
                plan.firm_id,
                (plan.firm_name or "")[:200] or None,
                encode_writes(plan),
                [list(issue) for issue in plan.issues] or None,
            )
            for plan in plans
        ),
    )


def _mark_repeated(
    batch_id: int, planner: Planner, repeated: dict[int, tuple[str, str]], result
) -> None:
    """Turn the rows that repeat an earlier row's record into errors on their key column,
    stored and counted."""
    numbers = sorted(repeated)
    stored = []
    for chunk in bulk.chunks(numbers):
        stored += db.session.execute(
            select(ImportRow.row_number, ImportRow.action, ImportRow.issues).where(
                ImportRow.batch_id == batch_id,
                ImportRow.row_number.in_(chunk),
            )
        ).all()
    changed = []
    for number, action, issues in stored:
        letter, message = repeated[number]
        issues = [*(issues or []), [letter, "error", message]]
        plan = RowPlan(number, issues=[tuple(i) for i in issues])
        settle(planner.kind, plan)
        result.counts[action] -= 1
        result.counts[plan.action] += 1
        result.has_issues = True
        changed.append((plan.action, issues, batch_id, number))
    bulk.update_rows(ImportRow.__table__, ("action", "issues"), ("batch_id", "row_number"), changed)


def write_annotated(batch: ImportBatch, target: Path) -> None:
    """Write the batch's sheet back with each row's outcome and its faulty cells marked."""
    with open_workbook(stored_file(batch), limits(), filename=batch.filename) as workbook:
        annotate.write_annotated(
            workbook.rows(batch.sheet), max(batch.header_rows), stored_outcomes(batch.id), target
        )


#: The actions whose 导入结果 names the fields they change, read from their stored writes.
CHANGING = ("update", "rename")


def stored_outcomes(batch_id: int) -> dict[int, annotate.Outcome]:
    """Return the 导入结果 of every stored row of a batch: row number → outcome.

    Only the rows that change a firm have their writes read back: every other row's outcome
    is its action and its problems.
    """
    r = ImportRow
    rows = db.session.execute(
        select(r.row_number, r.action, r.issues).where(
            r.batch_id == batch_id, r.action.not_in(CHANGING)
        )
    )
    outcomes = {
        number: annotate.outcome_of(
            RowPlan(number, action, issues=[tuple(i) for i in issues] if issues else []), []
        )
        for number, action, issues in rows
    }
    for plans in stored_plans(batch_id, CHANGING):
        for plan in plans:
            outcomes[plan.number] = annotate.outcome_of(plan, changed_labels(plan))
    return outcomes


def high_water() -> int:
    """Return the id of the latest audit entry: what the dry run was compared with."""
    return db.session.scalar(select(func.max(AuditEntry.id))) or 0


def is_stale(batch: ImportBatch) -> bool:
    """Tell whether firm data changed since the batch's dry run in a way it may depend on.

    A later change to a firm a row matched, or any new firm (which a row might now match),
    means the dry run is checked again against the workbook before anything is written.
    """
    mark = batch.options.get("high_water")
    if mark is None:
        return True
    matched = select(ImportRow.firm_id).where(
        ImportRow.batch_id == batch.id, ImportRow.firm_id.is_not(None)
    )
    later = (
        select(AuditEntry.id)
        .where(
            AuditEntry.id > mark,
            or_(
                AuditEntry.firm_id.in_(matched),
                and_(AuditEntry.entity == "firms", AuditEntry.action == "create"),
                AuditEntry.entity == "firm_former_names",
            ),
        )
        .limit(1)
    )
    return db.session.scalar(later) is not None


# --- Jobs ----------------------------------------------------------------------------------------
