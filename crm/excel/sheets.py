"""Which sheet of a workbook a dry run reads, and what it says of the others.

A bureau's workbook often holds instructions and a blank template beside the data. The dry run
reads the sheet the user chose, else the one `Workbook.pick_sheet` finds (the most data rows
under a recognised header); it keeps what it found of every sheet in the batch's options
("sheets"), so the pages and the command line say which sheet was used and offer the others.
A sheet without data rows is never dry-run as "0 new": `no_rows` says what to do instead.
"""

from contextlib import suppress
from typing import Any

from crm.excel.models import ImportBatch
from crm.spreadsheets.readers import Workbook
from crm.spreadsheets.tables import SpreadsheetError, Table


def choose(
    workbook: Workbook, chosen: str | None, is_known_header, known: list[dict[str, Any]] | None
) -> str:
    """Return the sheet to read: the one chosen, else the data sheet the workbook finds.

    The workbook's sheets are looked at either way, so that the others can be offered, unless
    an earlier dry run of the same file found them (`known`, kept on the batch): a sheet chosen
    by the user then costs no second reading of every sheet.
    """
    if not chosen:
        return workbook.pick_sheet(is_known_header)
    if len(workbook.sheet_names) > 1 and not known:
        # Another sheet that cannot be read does not stop the one chosen.
        with suppress(SpreadsheetError):
            workbook.pick_sheet(is_known_header)
    return chosen


def found(
    workbook: Workbook, sheet: str, rows: int, known: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """Return what was found of each sheet of a workbook of several, for the batch to keep:
    `known` (an earlier dry run's findings) with the sheet just read updated, else what the
    workbook found."""
    if len(workbook.sheet_names) < 2:
        return []
    if known:
        return [{**s, "rows": rows, "problem": None} if s["name"] == sheet else s for s in known]
    return [
        {
            "name": s.name,
            "rows": rows if s.name == sheet else s.rows,
            "problem": None if s.name == sheet else s.problem,
        }
        for s in workbook.sheets_found
    ]


def no_rows(filename: str, sheet: str, table: Table, sheets: list[dict[str, Any]]) -> str:
    """Return, in Chinese, why a sheet without data rows is not dry-run, and what to do."""
    header = "、".join(str(number) for number in table.header_rows)
    where = f"工作表「{sheet}」的表头（第 {header} 行）下没有数据行"
    others = [s for s in sheets if s["name"] != sheet]
    with_rows = [s for s in others if s["rows"]]
    if with_rows:
        named = "、".join(f"「{s['name']}」（{s['rows']} 行）" for s in with_rows)
        return f"{where}；数据在工作表{named}中，请改选该工作表重新预检"
    parts = [where]
    for problem, said in (("未找到表头", "未找到表头"), ("没有数据", "是空的")):
        named = "".join(f"「{s['name']}」" for s in others if s["problem"] == problem)
        if named:
            parts.append(f"工作表{named}{said}")
    empty = "".join(f"「{s['name']}」" for s in others if s["rows"] == 0)
    if empty:
        parts.append(f"工作表{empty}也没有数据行")
    return f"文件「{filename}」中没有可导入的数据：{'，'.join(parts)}；请检查上传的是否为空白模板"


def _shown(sheet: dict[str, Any]) -> str:
    if sheet["problem"]:
        return f"{sheet['name']}（{sheet['problem']}）"
    if sheet["rows"] is None:
        return sheet["name"]
    return f"{sheet['name']}（{sheet['rows']} 行数据）"


def offered(batch: ImportBatch) -> list[dict[str, Any]]:
    """Return the other sheets of the batch's workbook that a dry run may read instead."""
    return [
        s
        for s in batch.options.get("sheets") or []
        if s["name"] != batch.sheet and s["rows"] != 0 and s["problem"] in (None, "未找到表头")
    ]


def described(batch: ImportBatch) -> str | None:
    """Return, in Chinese, which sheet the dry run read and what the others hold, or None."""
    sheets = batch.options.get("sheets") or []
    if not sheets or not batch.sheet:
        return None
    used = next((s for s in sheets if s["name"] == batch.sheet), None)
    rows = f"（{used['rows']} 行数据）" if used and used["rows"] is not None else ""
    others = "、".join(_shown(s) for s in sheets if s["name"] != batch.sheet)
    return f"已读取工作表「{batch.sheet}」{rows}；其他工作表：{others}"
