"""A firm's own workbook of yearly figures, read with the bureau's importer.

The portal lets a firm upload the importer's blank template of yearly figures. The workbook
goes through the very dry run a bureau import of kind `years` goes through (headers, units,
years in the headers, value checks, matching the firm), inside a savepoint that is then rolled
back: the batch and its rows are never kept, and its stored file is removed. What comes out is
the figures each year proposes for the user's own firm, or the problems, each with its row and
column. Registered with `crm.firms.figures` when this module is imported (by the blueprint).
"""

import shutil
from typing import Any

from sqlalchemy import select

from crm.core import clock
from crm.excel import blanks, columns
from crm.excel.dryrun import dry_run
from crm.excel.models import ImportRow
from crm.excel.retention import batch_folder
from crm.excel.services import start_import
from crm.excel.stored import decode_row
from crm.extensions import db
from crm.firms.figures import YearFile, YearFiles, register_year_files
from crm.jobs.queue import JobError

KIND = "years"


def _where(row_number: int, letter: str) -> str:
    return f"第 {row_number} 行" + (f" {letter} 列" if letter else "")


def read_firm_years(upload, user) -> YearFile:
    """Dry-run `upload` as `user` (an enterprise user) importing yearly figures, and return the
    figures it proposes for the user's firm, or what is wrong with it."""
    found = YearFile()
    savepoint = db.session.begin_nested()
    folder = None
    try:
        batch = start_import(KIND, upload, user, queued=False)
        folder = batch_folder(batch.id)
        try:
            dry_run(batch, user=user)
        except JobError as error:
            found.problems.append(str(error))
            return found
        rows = db.session.scalars(
            select(ImportRow).where(ImportRow.batch_id == batch.id).order_by(ImportRow.row_number)
        )
        matched = [_take(decode_row(stored), user.firm_id, found) for stored in rows]
    finally:
        savepoint.rollback()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    if not found.problems and not found.years:
        found.problems.append(
            "文件中的数据与现有记录相同，没有需要变更的内容"
            if any(matched)
            else "文件中没有本企业的年度数据"
        )
    return found


def _take(plan, firm_id: int, found: YearFile) -> bool:
    """Add the row's figures, or its problems, to `found`; tell whether it named the firm."""
    errors = [(letter, message) for letter, level, message in plan.issues if level == "error"]
    for letter, message in errors:
        found.problems.append(f"{_where(plan.number, letter)}：{message}")
    if errors:
        return False
    if plan.firm_id != firm_id:
        name = plan.firm_name or "（未填企业名称）"
        found.problems.append(
            f"{_where(plan.number, '')}：「{name}」不是本企业，只能填报本企业的数据"
        )
        return False
    for table, key, _row_id, new, _old in plan.children:
        if table != "firm_years":
            continue
        year = key[1]
        values: dict[str, Any] = {k: v for k, v in new.items() if k not in ("year", "firm_id")}
        found.years.setdefault(year, {}).update(values)
    return True


def blank_years() -> tuple[bytes, str]:
    """Return the importer's blank template of yearly figures, for last year, and its name."""
    kind = columns.KINDS[KIND]
    return blanks.build(kind, clock.today().year - 1), blanks.filename(kind)


register_year_files(YearFiles(read=read_firm_years, blank=blank_years))
