"""Formulas in an uploaded workbook: text that looks like one, and cells that hold one."""

import struct
import zipfile
from pathlib import Path

import pytest

from crm.excel.values import CellError, parse_text
from crm.spreadsheets import scan, xls
from crm.spreadsheets.readers import open_workbook
from tests.spreadsheet_builders import OdsFormula, append_raw_cells, write_ods, write_xlsx

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://example.com","梧州甲科技有限公司")',
        "=1+1",
        "+SUM(A1:A3)",
        "-cmd|' /C calc'!A0",
        "@A1",
        " =A1&B1",
    ],
)
def test_text_that_looks_like_a_formula_is_refused(text):
    with pytest.raises(CellError) as error:
        parse_text(text, 200)
    assert error.value.message.endswith("是公式或像公式的文字，不能导入；请改为实际内容")
    assert error.value.message.startswith(f"「{text.strip()[:40]}")


@pytest.mark.parametrize(
    "text", ["+86 0774-1234567", "-", "——", "-5", "@梧州甲公司", "A-1 栋", "=", "+ 备注"]
)
def test_text_that_only_starts_like_a_formula_is_kept(text):
    assert parse_text(text, 200) == text


def formula_rows(path: Path) -> Path:
    """Append rows of formula cells as Excel saves them: the formula, then its value."""
    return append_raw_cells(
        path,
        '<row r="2"><c r="A2" t="str"><f>HYPERLINK("http://x","甲公司")</f><v>甲公司</v></c>'
        '<c r="B2"><f>C2*2</f><v>3000</v></c><c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        '<c r="D2"><f>SUM(B2:C2)</f><v/></c><c r="E2" t="str"><f>""</f><v></v></c></row>',
    )


def test_xlsx_formula_cells_are_noted_with_their_text_and_whether_a_value_is_kept(tmp_path):
    path = formula_rows(write_xlsx(tmp_path / "f.xlsx", [["企业名称", "营业收入", "研发费用"]]))
    with zipfile.ZipFile(path) as archive:
        extent = scan.scan_xlsx_sheet(archive, "xl/worksheets/sheet1.xml")
    assert extent.formulas == {
        (2, 0): ('HYPERLINK("http://x","甲公司")', True),
        (2, 1): ("C2*2", True),
        (2, 2): ("1/0", True),
        (2, 3): ("SUM(B2:C2)", False),
        (2, 4): ('""', True),
    }
    with open_workbook(path) as book:
        rows = book.rows()
        assert rows.formulas == extent.formulas
        assert list(rows)[1] == (2, ["甲公司", 3000, "#DIV/0!"])


def test_ods_formula_cells_are_noted_and_their_error_values_kept(tmp_path):
    path = write_ods(
        tmp_path / "f.ods",
        {
            "名单": [
                ["2024年名单"],
                ["企业名称", "营业收入", "研发费用", "职工总数"],
                [
                    OdsFormula('HYPERLINK("http://x";"甲公司")', "甲公司"),
                    OdsFormula("[.D3]*2", 3000),
                    OdsFormula("1/0", "#DIV/0!"),
                    OdsFormula("SUM([.B3:.C3])"),
                ],
            ]
        },
    )
    with open_workbook(path) as book:
        rows = book.rows()
        assert rows.formulas == {
            (3, 0): ('HYPERLINK("http://x";"甲公司")', True),
            (3, 1): ("[.D3]*2", True),
            (3, 2): ("1/0", True),
            (3, 3): ("SUM([.B3:.C3])", False),
        }
        # calamine reads LibreOffice's error value as empty text; it is put back.
        assert list(rows)[2] == (3, ["甲公司", 3000, "#DIV/0!"])


def test_xls_formula_records_are_noted_without_their_text(tmp_path):
    """Turn the record of the fixture's 合计 amounts (MULRK, row 8 from column E) into a FORMULA."""
    data = bytearray((FIXTURES / "county_list.xls").read_bytes())
    assert xls.scan_xls(FIXTURES / "county_list.xls")["县区名单"].formulas == {}
    record = bytes.fromhex("BD001200") + struct.pack("<HH", 7, 4)
    assert data.count(record) == 1
    at = data.index(record)
    data[at : at + 2] = struct.pack("<H", 0x0006)
    path = tmp_path / "formula.xls"
    path.write_bytes(bytes(data))
    assert xls.scan_xls(path)["县区名单"].formulas == {(8, 4): ("", True)}
