"""The user's own sheet back, with an 导入结果 column and the faulty cells marked.

Every row of the uploaded sheet is copied in place (title rows, headers, data, footnotes), so
row numbers and column letters are those the user knows; each data row gets its outcome in a
new last column, and each cell with a problem a red (error) or yellow (warning) fill and a
comment saying what is wrong. Written with openpyxl's write-only mode, so memory stays flat
however long the sheet is. Text that Excel would run as a formula is written as text.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from crm.excel.models import ROW_ACTIONS
from crm.spreadsheets import writer
from crm.spreadsheets.tables import column_letter

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


@dataclass(slots=True)
class Outcome:
    """What a data row's 导入结果 cell says, and the problems of its cells by column letter."""

    text: str
    is_error: bool
    marks: dict[str, list[tuple[str, str]]] | None = None


def outcome(action: str, issues, fields: list[str]) -> str:
    """Return the text of a row's 导入结果 cell; `fields` are the names of changed fields."""
    errors = [message for _, level, message in issues if level == "error"]
    warnings = [message for _, level, message in issues if level == "warning"]
    if errors:
        text = "错误：" + "；".join(_located(issues, "error"))
    elif action in ("update", "rename"):
        label = ROW_ACTIONS[action]
        text = f"{label}：" + "、".join(fields[:8]) + ("等" if len(fields) > 8 else "")
    else:
        text = ROW_ACTIONS.get(action, action)
    if warnings:
        text += "。提示：" + "；".join(_located(issues, "warning"))
    return text


def outcome_of(plan, fields: list[str]) -> Outcome:
    """Return the outcome of a planned row."""
    marks: dict[str, list[tuple[str, str]]] = {}
    for letter, level, message in plan.issues:
        if letter:
            marks.setdefault(letter, []).append((level, message))
    return Outcome(outcome(plan.action, plan.issues, fields), plan.has_errors, marks or None)


def _located(issues, level: str) -> list[str]:
    return [
        f"{letter} 列：{message}" if letter else message
        for letter, lvl, message in issues
        if lvl == level
    ]


def write_annotated(
    sheet_rows: Iterable[tuple[int, list[Any]]],
    header_row: int,
    outcomes: dict[int, Outcome],
    target: Path,
) -> None:
    """Write the sheet's rows with each data row's outcome and marked cells to `target`."""
    book = Workbook(write_only=True)
    out = book.create_sheet("导入结果")
    out.freeze_panes = f"A{header_row + 1}"
    width = 0
    next_number = 1
    for number, values in sheet_rows:
        while next_number < number:
            out.append([])
            next_number += 1
        if number <= header_row:
            width = max(width, len(values))
        # The result column follows the header; a longer data row keeps all its cells.
        cells = [writer.safe(out, v) for v in values] + [None] * (width - len(values))
        found = outcomes.get(number)
        if number == header_row:
            out.append([_bold(out, v) for v in cells] + [_bold(out, RESULT_HEADER)])
        elif found is None:
            out.append(cells)
        else:
            out.append(_marked(out, cells, found))
        next_number = number + 1
    book.save(target)


def _bold(sheet, value):
    cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value=value)
    cell.font = HEADER_FONT
    return cell


def _marked(sheet, cells: list[Any], found: Outcome) -> list[Any]:
    out: list[Any] = []
    marks = found.marks or {}
    for index, value in enumerate(cells):
        problems = marks.get(column_letter(index)) if marks else None
        if not problems:
            out.append(value)
            continue
        cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value=value)
        is_error = any(level == "error" for level, _ in problems)
        cell.fill = ERROR_FILL if is_error else WARNING_FILL
        text = "\n".join(message for _, message in problems)
        cell.comment = Comment(text, COMMENT_AUTHOR, width=260, height=90)
        out.append(cell)
    result = WriteOnlyCell(sheet, value=found.text)
    result.font = ERROR_FONT if found.is_error else OK_FONT
    result.alignment = Alignment(wrap_text=True, vertical="top")
    out.append(result)
    return out
