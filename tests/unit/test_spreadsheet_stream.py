"""The streamed .xlsx: what openpyxl and python-calamine read back is what was written."""

import datetime
import zipfile

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from crm.spreadsheets.stream import Look, SheetWriter, Styled

ROW = [
    "梧州甲有限公司",
    12,
    1234.56,
    True,
    datetime.date(2024, 3, 5),
    datetime.datetime(2024, 3, 5, 8, 30),
    datetime.time(14, 15),
    'A & B <c> "d"',
    " 前后有空格 ",
    '=HYPERLINK("http://x")',
    None,
    "第一行\n第二行",
]


def write(tmp_path, rows, **kwargs):
    path = tmp_path / "out.xlsx"
    with SheetWriter(path, "导入结果", author="作者", **kwargs) as out:
        for number, values in rows:
            out.skip_to(number)
            out.append(values)
    return path


def test_values_come_back_as_written(tmp_path):
    path = write(tmp_path, [(1, ["表头"]), (3, ROW)], frozen_rows=1)
    sheet = load_workbook(path).active
    assert sheet.title == "导入结果" and sheet.freeze_panes == "A2"
    assert sheet["A2"].value is None
    got = [cell.value for cell in sheet[3]]
    assert got[:7] == [
        "梧州甲有限公司",
        12,
        1234.56,
        True,
        datetime.datetime(2024, 3, 5),
        datetime.datetime(2024, 3, 5, 8, 30),
        datetime.time(14, 15),
    ]
    assert sheet["E3"].number_format == "yyyy-mm-dd"
    assert got[7:] == [
        'A & B <c> "d"',
        " 前后有空格 ",
        '=HYPERLINK("http://x")',
        None,
        "第一行\n第二行",
    ]
    # Formula-like text is text, with the quote prefix, never a formula.
    assert sheet["J3"].data_type == "s" and sheet["J3"].quotePrefix
    assert "<f>" not in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()

    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("导入结果").to_python()
    assert calamine[2][0] == "梧州甲有限公司" and calamine[2][4] == datetime.date(2024, 3, 5)
    assert calamine[2][9] == '=HYPERLINK("http://x")'


def test_marked_cells_carry_their_fill_font_and_comment(tmp_path):
    red = Look(fill="F8D7DA")
    result = Look(color="B02A37", bold=True, wrap=True)
    path = write(
        tmp_path,
        [
            (1, [Styled("名称", Look(bold=True)), Styled("代码", Look(bold=True))]),
            (
                2,
                [
                    "甲",
                    Styled("bad", red, "统一社会信用代码应为 18 位\n请核对"),
                    Styled("错误", result),
                ],
            ),
            (3, [Styled(datetime.date(2024, 1, 2), Look(fill="FFF3CD"), "提示 <1>"), "=1"]),
        ],
    )
    sheet = load_workbook(path).active
    assert sheet["A1"].font.b and sheet["B1"].font.b
    assert sheet["B2"].fill.fgColor.rgb.endswith("F8D7DA")
    assert sheet["B2"].comment.text == "统一社会信用代码应为 18 位\n请核对"
    assert sheet["B2"].comment.author == "作者"
    assert sheet["C2"].font.b and sheet["C2"].font.color.rgb.endswith("B02A37")
    assert sheet["C2"].alignment.wrap_text
    assert sheet["A3"].value == datetime.datetime(2024, 1, 2)
    assert (
        sheet["A3"].fill.fgColor.rgb.endswith("FFF3CD") and sheet["A3"].comment.text == "提示 <1>"
    )
    assert sheet["A2"].comment is None and sheet["A2"].fill.fill_type is None
    # Excel shows comments through the VML drawing the sheet names.
    names = zipfile.ZipFile(path).namelist()
    assert "xl/drawings/vmlDrawing1.vml" in names and "xl/comments1.xml" in names


def test_text_excel_cannot_hold_is_replaced_not_fatal(tmp_path):
    path = write(tmp_path, [(1, ["控制\x01字符", float("nan")])])
    sheet = load_workbook(path).active
    assert sheet["A1"].value == "控制\ufffd字符" and sheet["B1"].value == "nan"
    assert "xl/comments1.xml" not in zipfile.ZipFile(path).namelist()
