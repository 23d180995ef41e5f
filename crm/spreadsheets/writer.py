"""Writing workbooks safely: text that Excel would run as a formula stays text.

A cell whose text begins with = + - or @ is a formula to Excel (and to WPS), which is how a
malicious value in an export or a returned sheet would run; a leading tab or carriage return
can hide such a start from a reader's eye and from some programs' checks. Such text is written
as a string cell with the quote prefix, so it shows exactly as typed and never calculates.
"""

from typing import Any

from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@")
#: Every start that makes a text cell be written as quoted text.
UNSAFE_STARTS = (*FORMULA_STARTS, "\t", "\r")


def is_formula_like(value: Any) -> bool:
    """Tell whether `value` is text that a spreadsheet might read as a formula."""
    return isinstance(value, str) and value.startswith(UNSAFE_STARTS)


def text_cell(sheet, value: str) -> WriteOnlyCell:
    """Return a write-only cell holding `value` as plain text."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe(sheet, value: Any) -> Any:
    """Return `value` ready for a write-only row: formula-like text as a text cell."""
    return text_cell(sheet, value) if is_formula_like(value) else value


def set_value(cell, value: Any) -> None:
    """Set a cell of a normal (not write-only) workbook; formula-like text stays text."""
    cell.value = value
    if is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True
