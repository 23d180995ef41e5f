"""The streamed .xlsx: what openpyxl and python-calamine read back is what was written."""

import datetime
import zipfile
from decimal import Decimal

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


def test_columns_carry_widths_formats_and_an_autofilter(tmp_path):
    path = tmp_path / "list.xlsx"
    formats = ["@", "#,##0.00", "yyyy-mm-dd", "yyyy-mm-dd hh:mm", None, "0"]
    with SheetWriter(
        path, "企业", frozen_rows=1, widths=[20, 12, None, 16], formats=formats, autofilter=True
    ) as out:
        out.append(["统一社会信用代码", "营业收入（万元）", "成立日期", "更新时间", "名称", "人数"])
        out.append(
            [
                "91450400MA5K000001",
                Decimal("123.456789"),
                datetime.date(2020, 5, 6),
                datetime.datetime(2024, 1, 2, 9, 30),
                '=HYPERLINK("http://x","y")',
                12,
            ]
        )
        out.append(["+8613800000000", 1.5, None, None, True, None])
    sheet = load_workbook(path).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F3"
    assert sheet.column_dimensions["A"].width == 20 and sheet.column_dimensions["B"].width == 12
    assert sheet.column_dimensions["D"].width == 16
    a2, b2, c2, d2, e2, f2 = sheet[2]
    assert (a2.value, a2.data_type, a2.number_format) == ("91450400MA5K000001", "s", "@")
    assert b2.value == 123.456789 and b2.data_type == "n" and b2.number_format == "#,##0.00"
    assert c2.value == datetime.datetime(2020, 5, 6) and c2.number_format == "yyyy-mm-dd"
    assert d2.value == datetime.datetime(2024, 1, 2, 9, 30)
    assert d2.number_format == "yyyy-mm-dd hh:mm"
    assert e2.value == '=HYPERLINK("http://x","y")' and e2.data_type == "s" and e2.quotePrefix
    assert f2.value == 12 and f2.number_format == "0"
    # A text column keeps a formula-like phone as text, still in the text format.
    a3 = sheet["A3"]
    assert (a3.value, a3.data_type, a3.number_format) == ("+8613800000000", "s", "@")
    assert a3.quotePrefix and sheet["B3"].value == 1.5 and sheet["E3"].value is True
    # The header keeps its text format too, and Excel's filter range is named.
    assert sheet["A1"].number_format == "@" and sheet["B1"].data_type == "s"
    workbook = zipfile.ZipFile(path).read("xl/workbook.xml").decode()
    assert "_xlnm._FilterDatabase" in workbook and "'企业'!$A$1:$F$3" in workbook


def test_a_decimal_is_written_with_every_digit(tmp_path):
    path = write(tmp_path, [(1, [Decimal("1234567.89") / 10000, Decimal("0.000001")])])
    sheet = load_workbook(path).active
    assert sheet["A1"].value == 123.456789 and sheet["B1"].value == 0.000001
    assert "<v>123.456789</v>" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()


def test_a_marked_empty_cell_stays_empty(tmp_path):
    # The annotated import copy marks a missing value: the cell keeps its fill and comment and
    # must stay empty, or the word "None" would be read back as the value on re-import.
    red = Look(fill="F8D7DA")
    path = write(tmp_path, [(1, ["甲", Styled(None, red, "缺少统一社会信用代码")])])
    sheet = load_workbook(path).active
    assert sheet["B1"].value is None
    assert sheet["B1"].fill.fgColor.rgb.endswith("F8D7DA")
    assert sheet["B1"].comment.text == "缺少统一社会信用代码"
    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python() == [["甲"]]
