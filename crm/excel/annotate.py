"""The user's own sheet back, with an 导入结果 column and the faulty cells marked.

Every row of the uploaded sheet is copied in place (title rows, headers, data, footnotes), so
row numbers and column letters are those the user knows; each data row gets its outcome in a
new last column, and each cell with a problem a red (error) or yellow (warning) fill and a
comment saying what is wrong. Written as a stream (`crm.spreadsheets.stream`), so memory stays
flat and a 50,000-row sheet takes seconds. Text that Excel would run as a formula is written as
text.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm.excel.models import ROW_ACTIONS
from crm.spreadsheets.scan import column_number
from crm.spreadsheets.stream import Look, SheetWriter, Styled

RESULT_HEADER = "导入结果"
ERROR_CELL = Look(fill="F8D7DA")
WARNING_CELL = Look(fill="FFF3CD")
OK_RESULT = Look(color="146C43", wrap=True)
ERROR_RESULT = Look(color="B02A37", bold=True, wrap=True)
HEADER = Look(bold=True)
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
    with SheetWriter(target, RESULT_HEADER, frozen_rows=header_row, author=COMMENT_AUTHOR) as out:
        width = 0
        for number, values in sheet_rows:
            out.skip_to(number)
            if number <= header_row:
                width = max(width, len(values))
            # The result column follows the header; a longer data row keeps all its cells.
            cells = values + [None] * (width - len(values)) if len(values) < width else values
            found = outcomes.get(number)
            if number == header_row:
                out.append([Styled(v, HEADER) for v in cells] + [Styled(RESULT_HEADER, HEADER)])
            elif found is None:
                out.append(cells)
            else:
                out.append(_marked(cells, found))


def _marked(cells: list[Any], found: Outcome) -> list[Any]:
    out = list(cells)
    for letter, problems in (found.marks or {}).items():
        index = column_number(letter.encode()) - 1
        if index >= len(out):
            continue  # not a cell of the sheet: the message is in the result column
        is_error = any(level == "error" for level, _ in problems)
        text = "\n".join(message for _, message in problems)
        out[index] = Styled(out[index], ERROR_CELL if is_error else WARNING_CELL, text)
    out.append(Styled(found.text, ERROR_RESULT if found.is_error else OK_RESULT))
    return out
