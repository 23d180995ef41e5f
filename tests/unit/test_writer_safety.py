"""Formula-like text is written as text, in write-only and normal workbooks alike."""

from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from crm.spreadsheets.writer import safe, set_value

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def _read_back(book: Workbook) -> list:
    buffer = BytesIO()
    book.save(buffer)
    sheet = load_workbook(BytesIO(buffer.getvalue())).active
    return [(cell.value, cell.data_type) for cell in sheet[1]]


@pytest.mark.parametrize("write_only", [True, False])
def test_formula_like_text_reads_back_as_the_same_string(write_only):
    book = Workbook(write_only=write_only)
    if write_only:
        sheet = book.create_sheet()
        sheet.append([safe(sheet, value) for value in [*HOSTILE, "plain", 12]])
    else:
        sheet = book.active
        for column, value in enumerate([*HOSTILE, "plain", 12], start=1):
            set_value(sheet.cell(row=1, column=column), value)

    cells = _read_back(book)

    # With lxml (a dependency) openpyxl keeps even the carriage return.
    assert [value for value, _ in cells] == [*HOSTILE, "plain", 12]
    assert [kind for _, kind in cells] == ["s"] * (len(HOSTILE) + 1) + ["n"]
