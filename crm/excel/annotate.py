"""The user's own sheet back, with an 导入结果 column and the faulty cells marked.

Every row of the uploaded sheet is copied in place (title rows, headers, data, footnotes), so
row numbers and column letters are those the user knows; each data row gets its outcome in a
new last column, and each cell with a problem a red (error) or yellow (warning) fill and a
comment saying what is wrong. Written with openpyxl's write-only mode, so memory stays flat
however long the sheet is. Text that Excel would run as a formula is written as text.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from crm.core import xlsx
from crm.core.spreadsheets import column_letter
from crm.excel.models import ROW_ACTIONS
from crm.excel.plan import Plan

RESULT_HEADER = "导入结果"
ERROR_FILL = PatternFill("solid", fgColor="F8D7DA")
WARNING_FILL = PatternFill("solid", fgColor="FFF3CD")
OK_FONT = Font(color="146C43")
ERROR_FONT = Font(color="B02A37", bold=True)
HEADER_FONT = Font(bold=True)
COMMENT_AUTHOR = "科技企业培育 CRM"


def result_name(filename: str) -> str:
    """Return the download name of the annotated copy of `filename`."""
    return f"{Path(filename).stem}_导入结果.xlsx"


def outcome(action: str, issues: list[tuple[str, str, str]], changes) -> str:
    """Return the text of a row's 导入结果 cell."""
    errors = [message for _, level, message in issues if level == "error"]
    warnings = [message for _, level, message in issues if level == "warning"]
    if errors:
        text = "错误：" + "；".join(_located(issues, "error"))
    elif action == "update":
        fields = list(dict.fromkeys(label for label, _, _ in changes))
        text = "更新：" + "、".join(fields[:8]) + ("等" if len(fields) > 8 else "")
    else:
        text = ROW_ACTIONS.get(action, action)
    if warnings:
        text += "。提示：" + "；".join(_located(issues, "warning"))
    return text


def _located(issues, level: str) -> list[str]:
    return [
        f"{letter} 列：{message}" if letter else message
        for letter, lvl, message in issues
        if lvl == level
    ]


def write_annotated(sheet_rows: Iterable[tuple[int, list[Any]]], sheet, plan: Plan, target: Path):
    """Write the sheet's rows with each data row's outcome and marked cells to `target`."""
    by_number = {row.number: row for row in plan.rows}
    header_row = max(sheet.table.header_rows)
    width = max((c.index for c in sheet.table.columns), default=0) + 1
    book = Workbook(write_only=True)
    out = book.create_sheet("导入结果")
    out.freeze_panes = f"A{header_row + 1}"
    next_number = 1
    for number, values in sheet_rows:
        while next_number < number:
            out.append([])
            next_number += 1
        if number <= header_row:
            width = max(width, len(values))
        plan_row = by_number.get(number)
        # The result column follows the header; a longer data row keeps all its cells.
        cells = [xlsx.safe(out, v) for v in values] + [None] * (width - len(values))
        if number == header_row:
            out.append([_bold(out, v) for v in cells] + [_bold(out, RESULT_HEADER)])
        elif plan_row is None:
            out.append(cells)
        else:
            out.append(_marked(out, cells, plan_row))
        next_number = number + 1
    book.save(target)


def _bold(sheet, value):
    cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value=value)
    cell.font = HEADER_FONT
    return cell


def _marked(sheet, cells: list[Any], row) -> list[Any]:
    marks: dict[str, list[tuple[str, str]]] = {}
    for letter, level, message in row.issues:
        if letter:
            marks.setdefault(letter, []).append((level, message))
    out: list[Any] = []
    for index, value in enumerate(cells):
        found = marks.get(column_letter(index))
        if not found:
            out.append(value)
            continue
        cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value=value)
        is_error = any(level == "error" for level, _ in found)
        cell.fill = ERROR_FILL if is_error else WARNING_FILL
        text = "\n".join(message for _, message in found)
        cell.comment = Comment(text, COMMENT_AUTHOR, width=260, height=90)
        out.append(cell)
    result = WriteOnlyCell(sheet, value=outcome(row.action, row.issues, row.changes))
    result.font = ERROR_FONT if row.has_errors else OK_FONT
    result.alignment = Alignment(wrap_text=True, vertical="top")
    out.append(result)
    return out
