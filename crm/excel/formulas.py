"""Cells that hold a formula, as the file's XML tells (python-calamine gives only the values).

A formula in a text field is refused: its value is whatever the formula last computed, if
anything, and a =HYPERLINK(…) must never become a firm's name. In any other field the value the
file keeps is read as usual, and an error value (#VALUE!, #DIV/0!) is an error on its cell, as
every parser has it. A formula whose value the file does not keep (written by a program that
never computes) is refused too, whatever the field: its cell reads as empty, and empty it is not.
"""

from collections.abc import Iterable, Iterator

from crm.excel.columns import ImportKind
from crm.excel.convert import ConvertedRow, MappedColumn
from crm.spreadsheets.tables import Table


def _shown(text: str) -> str:
    return f"「={text}」" if text else ""


def checked(
    rows: Iterable[ConvertedRow], table: Table, kind: ImportKind, mapped: list[MappedColumn]
) -> Iterator[ConvertedRow]:
    """Yield the rows with each formula cell of a text field, or without a value, refused."""
    by_row: dict[int, dict[int, tuple[str, bool]]] = {}
    for (number, index), formula in table.formulas.items():
        by_row.setdefault(number, {})[index] = formula
    fields = []
    for column in mapped:
        if column.key:
            definition = kind.get(column.key)
            slot = (column.key, column.year) if definition.yearly else None
            sheet_index = table.columns[column.index].index
            fields.append((sheet_index, column.letter, column.key, slot, definition.parser))
    for row in rows:
        cells = by_row.get(row.number)
        if cells:
            for index, letter, key, slot, parser in fields:
                formula = cells.get(index)
                if formula is not None:
                    _check(row, formula, letter, key, slot, parser == "text")
        yield row


def _check(row: ConvertedRow, formula, letter: str, key: str, slot, text_field: bool) -> None:
    text, kept = formula
    if text_field:
        message = f"该单元格是公式{_shown(text)}，不能作为文字导入；请改为公式的结果（粘贴为数值）"
    elif not kept:
        message = (
            f"该单元格是公式{_shown(text)}，但文件中没有保存计算结果；"
            "请在 Excel 或 WPS 中打开、保存后重新上传，或改为数值"
        )
    else:
        return
    if any(issue[0] == letter and issue[1] == "error" for issue in row.issues):
        return  # already refused on its cell (text that looks like a formula, say)
    row.issues.append((letter, "error", message))
    row.letters[key] = letter
    if slot is None:
        row.values.pop(key, None)
    else:
        row.yearly.pop(slot, None)
