"""Writing workbooks safely: text that Excel would run as a formula stays text.

A cell whose text begins with = + - or @ is a formula to Excel (and to WPS), which is how a
malicious value in an export or a returned sheet would run. Such text is written as a string
cell with the quote prefix, so it shows exactly as typed and never calculates.
"""

from typing import Any

from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@")


def is_formula_like(value: Any) -> bool:
    """Tell whether `value` is text that a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def text_cell(sheet, value: str) -> WriteOnlyCell:
    """Return a write-only cell holding `value` as plain text."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe(sheet, value: Any) -> Any:
    """Return `value` ready for a write-only row: formula-like text as a text cell."""
    return text_cell(sheet, value) if is_formula_like(value) else value
