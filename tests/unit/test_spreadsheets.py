"""Reading real workbooks into clean rows: formats, headers, noise rows, hostile files."""

import codecs
import datetime
import struct
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook as OpenpyxlWorkbook

from crm.spreadsheets import xls
from crm.spreadsheets.readers import Limits, open_workbook
from crm.spreadsheets.tables import (
    SpreadsheetError,
    column_letter,
    find_table,
    normalise_header,
)
from tests.spreadsheet_builders import (
    append_raw_cells,
    county_list_rows,
    ods_table,
    set_dimension,
    shared_entries,
    shared_row,
    write_ods,
    write_raw_xlsx,
    write_shared_strings_bomb,
    write_xlsx,
    write_zip_bomb,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
KNOWN = {
    "序号",
    "企业名称",
    "统一社会信用代码",
    "所属区县",
    "成立日期",
    "营业收入（万元）",
    "研发费用（万元）",
    "职工人数（人）",
    "备注",
}
NOT_A_SPREADSHEET = "不是可识别的电子表格（支持 .xlsx、.xlsm、.xls、.ods、.csv）"


def known(text: str) -> bool:
    """Tell whether a header is one the tests treat as a known column name."""
    return text in KNOWN


def read_table(path: Path, limits: Limits | None = None, **kwargs):
    """Open a file, find its table and return (table, rows as a list)."""
    with open_workbook(path, limits or Limits(), **kwargs) as book:
        table = find_table(book.rows(book.pick_sheet(known)), known)
        return table, list(table.rows)


def labels(table) -> list[str]:
    """Return the labels of a table's columns."""
    return [column.label for column in table.columns]


FIRMS = [
    [1, "梧州市星火电子科技有限公司", "91450400MA5K000001", "万秀区"],
    [2, "岑溪市青山新材料有限公司", "91450481MA5K000002", "岑溪市"],
    [3, "藤县云帆智能装备有限公司", "91450422MA5K000003", "藤县"],
]
HEADER = ["序号", "企业名称", "统一社会信用代码", "所属区县"]


def test_title_rows_above_the_header_are_ignored(tmp_path):
    path = write_xlsx(
        tmp_path / "list.xlsx",
        [
            ["2024年梧州市高新技术企业后备库名单"],
            ["填报单位：梧州市科学技术局", None, None, "填报日期：2024年3月1日"],
            [datetime.date(2024, 3, 1)],
            HEADER,
            *FIRMS,
        ],
        merges=["A1:D1"],
    )
    table, rows = read_table(path)
    assert table.header_rows == (4,)
    assert labels(table) == ["企业名称", "统一社会信用代码", "所属区县"]
    assert rows[0] == (5, ["梧州市星火电子科技有限公司", "91450400MA5K000001", "万秀区"])
    assert [number for number, _ in rows] == [5, 6, 7]


GROUPED = [
    ["2024年梧州市高新技术企业后备库名单"],
    ["序号", "企业名称", "统一社会信用代码", "2024年度主要经济指标", None, None, "备注"],
    [None, None, None, "营业收入（万元）", "研发费用（万元）", "职工人数（人）", None],
    [1, "梧州市星火电子科技有限公司", "91450400MA5K000001", 5230.5, 312, 86, "拟申报"],
    [2, "岑溪市青山新材料有限公司", "91450481MA5K000002", 18000, 960.25, 240, None],
]
GROUPED_MERGES = ["A1:G1", "A2:A3", "B2:B3", "C2:C3", "D2:F2", "G2:G3"]
GROUPED_LABELS = [
    "企业名称",
    "统一社会信用代码",
    "2024年度主要经济指标 / 营业收入（万元）",
    "2024年度主要经济指标 / 研发费用（万元）",
    "2024年度主要经济指标 / 职工人数（人）",
    "备注",
]


def test_merged_two_level_header_joins_group_and_sub_header(tmp_path):
    path = write_xlsx(tmp_path / "grouped.xlsx", GROUPED, merges=GROUPED_MERGES)
    table, rows = read_table(path)
    assert table.header_rows == (2, 3)
    assert labels(table) == GROUPED_LABELS
    assert rows[0] == (
        4,
        ["梧州市星火电子科技有限公司", "91450400MA5K000001", 5230.5, 312, 86, "拟申报"],
    )
    assert rows[1][1][-1] is None


def test_two_level_header_is_found_from_either_row(tmp_path):
    """The lower row may hold more known names than the upper one; the result is the same."""
    path = write_xlsx(tmp_path / "grouped.xlsx", GROUPED, merges=GROUPED_MERGES)
    lower_heavy = {"企业名称", "营业收入（万元）", "研发费用（万元）", "职工人数（人）"}
    with open_workbook(path) as book:
        table = find_table(book.rows(), lower_heavy.__contains__)
    assert table.header_rows == (2, 3)
    assert labels(table) == GROUPED_LABELS


def test_vertically_merged_header_cell_keeps_its_own_label(tmp_path):
    path = write_xlsx(tmp_path / "grouped.xlsx", GROUPED, merges=GROUPED_MERGES)
    table, _ = read_table(path)
    by_letter = {column.letter: column.label for column in table.columns}
    assert by_letter["B"] == "企业名称"
    assert by_letter["G"] == "备注"
    assert by_letter["E"] == "2024年度主要经济指标 / 研发费用（万元）"


def test_group_heading_without_merge_info_is_carried_over_its_sub_headers(tmp_path):
    path = tmp_path / "grouped.csv"
    lines = [",".join("" if v is None else str(v) for v in row) for row in GROUPED]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table, rows = read_table(path)
    assert table.header_rows == (2, 3)
    assert labels(table)[:5] == GROUPED_LABELS[:5]
    assert rows[0][0] == 4


def test_title_typed_into_a_middle_cell_is_not_taken_for_a_group_heading(tmp_path):
    path = write_xlsx(
        tmp_path / "list.xlsx", [[None, None, "2024年梧州市高新技术企业后备库名单"], HEADER, *FIRMS]
    )
    table, _ = read_table(path)
    assert table.header_rows == (2,)
    assert labels(table) == HEADER[1:]


def test_lone_group_heading_without_merge_info_is_joined(tmp_path):
    path = tmp_path / "grouped.csv"
    path.write_text(
        ",,,经济指标,\n"
        "企业名称,统一社会信用代码,所属区县,营业收入（万元）,研发费用（万元）\n"
        "甲公司,91450400MA5K000001,万秀区,100,5\n",
        encoding="utf-8",
    )
    table, rows = read_table(path)
    assert table.header_rows == (1, 2)
    assert labels(table)[3:] == ["经济指标 / 营业收入（万元）", "经济指标 / 研发费用（万元）"]
    assert rows == [(3, ["甲公司", "91450400MA5K000001", "万秀区", "100", "5"])]


CONTACT_HEADER = [
    ["2024年度万秀区高企后备库企业名单"],
    ["填报单位：万秀区科技局", None, None, None, None, "填报日期：2025年3月1日"],
    [
        "序号",
        "企业名称",
        "统一社会信用代码",
        "联系人",
        "联系电话",
        "2024年度主要经济指标",
        None,
        "备注",
    ],
    [None, None, None, None, None, "营业收入（万元）", "研发费用（万元）", None],
    [1, "梧州甲科技有限公司", "91450400MA5K000001", "张三", "13800000000", 1234.5, 61.7, None],
    [2, "梧州乙新材料有限公司", "91450481MA5K000002", "李四", "0774-1234567", 860, 43, "拟申报"],
]
CONTACT_MERGES = ["A1:H1", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:G3", "H3:H4"]
CONTACT_LABELS = [
    "企业名称",
    "统一社会信用代码",
    "联系人",
    "联系电话",
    "2024年度主要经济指标 / 营业收入（万元）",
    "2024年度主要经济指标 / 研发费用（万元）",
    "备注",
]


@pytest.mark.parametrize("merged", [True, False], ids=["merged", "no merge info"])
def test_upper_header_row_holding_contact_words_is_joined_with_its_sub_headers(tmp_path, merged):
    """联系人 and 联系电话 are header cells here, never note lines: the header is two rows."""
    path = write_xlsx(
        tmp_path / "contacts.xlsx", CONTACT_HEADER, merges=CONTACT_MERGES if merged else ()
    )
    table, rows = read_table(path)
    assert table.header_rows == (3, 4)
    assert labels(table) == CONTACT_LABELS
    assert [number for number, _ in rows] == [5, 6]


def test_contact_words_in_the_upper_row_join_when_the_lower_row_is_found_first(tmp_path):
    path = write_xlsx(tmp_path / "contacts.xlsx", CONTACT_HEADER, merges=CONTACT_MERGES)
    lower_heavy = {"企业名称", "营业收入（万元）", "研发费用（万元）"}
    with open_workbook(path) as book:
        table = find_table(book.rows(), lower_heavy.__contains__)
    assert table.header_rows == (3, 4)
    assert labels(table) == CONTACT_LABELS


def test_a_contact_line_above_the_header_is_not_a_group_heading(tmp_path):
    """Cells that are header words elsewhere, side by side with their values, make a note line."""
    path = write_xlsx(
        tmp_path / "contact_line.xlsx",
        [["联系人", "王五", "联系电话", "0774-7654321"], HEADER, *FIRMS],
    )
    with_contacts = KNOWN | {"联系人", "联系电话"}
    with open_workbook(path) as book:
        table = find_table(book.rows(), with_contacts.__contains__)
    assert table.header_rows == (2,)
    assert labels(table) == HEADER[1:]


def test_header_text_is_normalised():
    assert normalise_header("营业收入\n（万元）") == "营业收入（万元）"
    assert normalise_header(" 企 业 名 称 ") == "企业名称"
    assert normalise_header("Sales \n Revenue") == "Sales Revenue"
    assert normalise_header(2024) == "2024"


def test_header_with_line_breaks_and_padding_is_recognised(tmp_path):
    path = write_xlsx(
        tmp_path / "wrapped.xlsx",
        [
            ["企 业 名 称", "统一社会\n信用代码", "营业收入\n（万元）"],
            ["甲公司", "91450400MA5K000001", 10],
        ],
    )
    table, rows = read_table(path)
    assert labels(table) == ["企业名称", "统一社会信用代码", "营业收入（万元）"]
    assert rows == [(2, ["甲公司", "91450400MA5K000001", 10])]


def test_serial_number_column_is_dropped(tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *FIRMS])
    table, rows = read_table(path)
    assert [c.letter for c in table.columns] == ["B", "C", "D"]
    assert all(len(values) == 3 for _, values in rows)


@pytest.mark.parametrize("serial", ["序号", "序", "No.", "NO."])
def test_serial_number_column_is_recognised_by_its_usual_names(tmp_path, serial):
    path = write_xlsx(tmp_path / "list.xlsx", [[serial, *HEADER[1:]], *FIRMS])
    table, _ = read_table(path)
    assert labels(table) == HEADER[1:]


def test_totals_blank_rows_sections_and_footnotes_are_dropped_and_counted(tmp_path):
    path = write_xlsx(
        tmp_path / "noisy.xlsx",
        [
            [*HEADER, "营业收入（万元）"],
            ["一、万秀区"],
            [*FIRMS[0], 100],
            [],
            [*FIRMS[1], 200],
            [None, "小计", None, None, 300],
            ["二、藤县"],
            [*FIRMS[2], 50],
            [4, None, None, None, None],
            ["合 计", None, None, None, 350],
            ["注：营业收入为2023年度数据。"],
            ["填表人：李明", None, "审核人：张华", None, "填报日期：2024年3月1日"],
            ["数据来源：各县区科技局"],
        ],
    )
    table, rows = read_table(path)
    assert [number for number, _ in rows] == [3, 5, 8]
    assert table.skipped == {"blank": 2, "total": 2, "section": 2, "footnote": 3}


def test_sparse_row_inside_the_data_is_kept(tmp_path):
    path = write_xlsx(
        tmp_path / "sparse.xlsx",
        [HEADER, FIRMS[0], [None, "待补充信息的企业"], FIRMS[1], [None, "梧州市新建企业"]],
    )
    _, rows = read_table(path)
    assert [number for number, _ in rows] == [2, 3, 4, 5]
    assert rows[1][1] == ["待补充信息的企业", None, None]


def test_values_keep_their_types_and_integral_floats_become_int(tmp_path):
    book = OpenpyxlWorkbook()
    sheet = book.active
    sheet.append(
        ["企业名称", "成立日期", "填报时间", "营业收入（万元）", "职工人数（人）", "是否高企"]
    )
    sheet.append(
        ["  甲公司 ", datetime.date(2015, 6, 18), datetime.datetime(2024, 3, 1, 9, 30), 2024.0]
    )
    sheet.append(["乙公司", None, None, 1.5, 12, True])
    sheet["B2"].number_format = "yyyy-mm-dd"
    sheet["E2"] = "   "
    book.save(tmp_path / "typed.xlsx")
    with open_workbook(tmp_path / "typed.xlsx") as workbook:
        rows = list(workbook.rows())
    assert rows[1] == (
        2,
        ["甲公司", datetime.date(2015, 6, 18), datetime.datetime(2024, 3, 1, 9, 30), 2024],
    )
    assert type(rows[1][1][3]) is int
    assert rows[2] == (3, ["乙公司", None, None, 1.5, 12, True])


def test_error_values_are_kept_as_shown(tmp_path):
    path = write_xlsx(tmp_path / "errors.xlsx", [["企业名称", "研发投入强度"], ["甲公司", 0.05]])
    append_raw_cells(
        path,
        '<row r="3"><c r="A3" t="inlineStr"><is><t>乙公司</t></is></c>'
        '<c r="B3" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="C3" t="e"><v>#N/A</v></c></row>',
    )
    with open_workbook(path) as book:
        rows = list(book.rows())
    assert rows[2] == (3, ["乙公司", "#DIV/0!", "#N/A"])


def test_table_starting_to_the_right_keeps_sheet_columns_and_rows(tmp_path):
    book = OpenpyxlWorkbook()
    sheet = book.active
    for offset, row in enumerate([HEADER, *FIRMS]):
        for index, value in enumerate(row):
            sheet.cell(row=4 + offset, column=3 + index, value=value)
    book.save(tmp_path / "offset.xlsx")
    table, rows = read_table(tmp_path / "offset.xlsx")
    assert table.header_rows == (4,)
    assert [(c.index, c.letter) for c in table.columns] == [(3, "D"), (4, "E"), (5, "F")]
    assert rows[0] == (5, ["梧州市星火电子科技有限公司", "91450400MA5K000001", "万秀区"])


def test_unlabelled_column_with_data_is_kept_and_empty_one_dropped(tmp_path):
    path = write_xlsx(
        tmp_path / "extra.xlsx",
        [
            ["企业名称", None, "统一社会信用代码", None],
            ["甲公司", None, "91450400MA5K000001", "手写补充"],
            ["乙公司", None, "91450481MA5K000002", None],
        ],
    )
    table, rows = read_table(path)
    assert [(c.letter, c.label) for c in table.columns] == [
        ("A", "企业名称"),
        ("C", "统一社会信用代码"),
        ("D", ""),
    ]
    assert rows[0][1] == ["甲公司", "91450400MA5K000001", "手写补充"]


def test_missing_header_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "plain.xlsx", [["甲", "乙"], [1, 2]])
    with open_workbook(path) as book, pytest.raises(SpreadsheetError) as error:
        find_table(book.rows(), known)
    assert str(error.value) == (
        "未找到表头：前 30 行中没有可识别的列名（如「企业名称」「统一社会信用代码」）"
    )


def test_pick_sheet_prefers_the_sheet_with_known_headers(tmp_path):
    path = write_xlsx(
        tmp_path / "two.xlsx",
        [["填表说明"], ["1. 企业名称须与营业执照一致"]],
        title="说明",
        extra_sheets={"名单": [HEADER, *FIRMS]},
    )
    _, rows = read_table(path)
    assert len(rows) == 3
    with open_workbook(path) as book:
        assert book.sheet_names == ["说明", "名单"]
        assert book.pick_sheet(known) == "名单"


def test_pick_sheet_takes_the_first_on_a_tie_and_the_first_non_empty_without_headers(tmp_path):
    path = write_xlsx(
        tmp_path / "tie.xlsx", [HEADER, FIRMS[0]], title="甲", extra_sheets={"乙": [HEADER]}
    )
    with open_workbook(path) as book:
        assert book.pick_sheet(known) == "甲"
    path = write_xlsx(tmp_path / "none.xlsx", [], title="空表", extra_sheets={"数据": [["甲"]]})
    with open_workbook(path) as book:
        assert book.pick_sheet(known) == "数据"


def test_pick_sheet_takes_the_sheet_with_the_most_data_rows_under_a_known_header(tmp_path):
    """Instructions, then a blank template with more columns, then the data: the data wins."""
    path = write_xlsx(
        tmp_path / "three.xlsx",
        [["2024年名单"], HEADER, *FIRMS, ["合计"]],
        title="名单",
        extra_sheets={
            "填表说明": [["填表说明"], ["企业名称", "与营业执照一致"], ["备注", "可不填"]],
            "空白模板": [[*HEADER, "成立日期", "备注"], [1], [2], [3]],
        },
        first=False,
    )
    with open_workbook(path) as book:
        assert book.pick_sheet(known) == "名单"
        assert [(s.name, s.header, s.rows, s.problem) for s in book.sheets_found] == [
            ("填表说明", False, None, "未找到表头"),
            ("空白模板", True, 0, None),
            ("名单", True, 3, None),
        ]
        table = find_table(book.rows("名单"), known)
        assert [number for number, _ in table.rows] == [3, 4, 5]


def test_pick_sheet_says_when_every_sheet_is_empty(tmp_path):
    path = write_xlsx(tmp_path / "empty.xlsx", [], extra_sheets={"Sheet2": []})
    with (
        open_workbook(path, filename="名单.xlsx") as book,
        pytest.raises(SpreadsheetError) as error,
    ):
        book.pick_sheet(known)
    assert str(error.value) == "文件「名单.xlsx」的 2 个工作表都没有数据"


@pytest.mark.parametrize(
    ("encoding", "start"),
    [("utf-8-sig", codecs.BOM_UTF8), ("utf-8", b"2024"), ("gbk", b"2024"), ("gb18030", b"2024")],
    ids=["utf8-bom", "utf8", "gbk", "gb18030"],
)
def test_csv_is_decoded_in_utf8_or_gb18030(tmp_path, encoding, start):
    text = (
        "2024年后备库名单\n企业名称,统一社会信用代码,所属区县\n"
        "梧州市星火电子科技有限公司,91450400MA5K000001,万秀区\n"
    )
    path = tmp_path / "list.csv"
    path.write_bytes(text.encode(encoding))
    assert path.read_bytes().startswith(start)
    table, rows = read_table(path, filename="名单.csv")
    assert labels(table) == ["企业名称", "统一社会信用代码", "所属区县"]
    assert rows == [(3, ["梧州市星火电子科技有限公司", "91450400MA5K000001", "万秀区"])]


@pytest.mark.parametrize("delimiter", ["\t", ";", ","])
def test_csv_delimiter_is_sniffed(tmp_path, delimiter):
    lines = [
        delimiter.join(["企业名称", "统一社会信用代码", "营业收入（万元）"]),
        delimiter.join(["甲公司", "91450400MA5K000001", "1,234" if delimiter != "," else "1234"]),
        delimiter.join(["乙公司", "91450481MA5K000002", "88"]),
    ]
    path = tmp_path / "list.txt"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="gbk")
    with open_workbook(path) as book:
        assert book.format == "csv"
        rows = list(book.rows())
    assert rows[1][1][0] == "甲公司"
    assert len(rows[1][1]) == 3


def test_csv_with_only_blank_lines_has_no_data(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n , ,\n\n", encoding="utf-8")
    with open_workbook(path) as book, pytest.raises(SpreadsheetError) as error:
        book.rows()
    assert str(error.value) == "工作表「blank」没有数据"


def test_ods_is_read(tmp_path):
    path = write_ods(
        tmp_path / "list.ods",
        {
            "名单": [
                ["2024年后备库名单"],
                ["企业名称", "统一社会信用代码", "营业收入（万元）"],
                ["梧州市星火电子科技有限公司", "91450400MA5K000001", 5230.5],
                ["岑溪市青山新材料有限公司", " 91450481MA5K000002 ", 18000],
            ]
        },
    )
    with open_workbook(path) as book:
        assert book.format == "ods"
        assert book.sheet_names == ["名单"]
    table, rows = read_table(path)
    assert labels(table) == ["企业名称", "统一社会信用代码", "营业收入（万元）"]
    assert rows[1] == (4, ["岑溪市青山新材料有限公司", "91450481MA5K000002", 18000])
    assert type(rows[1][1][2]) is int


def test_ods_with_trailing_repeated_empty_rows_is_read(tmp_path):
    """LibreOffice ends every table with empty rows and cells repeated to the sheet's edge."""
    tail = (
        '<table:table-row table:number-rows-repeated="1048570">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    tables = ods_table("名单", [HEADER, *FIRMS]).replace("</table:table>", tail + "</table:table>")
    path = write_ods(tmp_path / "list.ods", tables_xml=tables)
    _, rows = read_table(path)
    assert [number for number, _ in rows] == [2, 3, 4]


def test_ods_with_huge_repeated_values_is_refused(tmp_path):
    """A few bytes of XML can repeat a value over a million rows; calamine would expand them."""
    row = (
        '<table:table-row table:number-rows-repeated="1000000">'
        '<table:table-cell table:number-columns-repeated="50" office:value-type="float" '
        'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
    )
    tables = ods_table("名单", [["企业名称", "统一社会信用代码"]]).replace(
        "</table:table>", row + "</table:table>"
    )
    path = write_ods(tmp_path / "repeated.ods", tables_xml=tables)
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path)
    assert str(error.value) == (
        "工作表「名单」的数据超过 200,000 行的上限，请拆分成多个文件后分别导入"
    )


def _repeated_long_text(rows: int) -> str:
    """Return an ODS table whose one row, repeated, fills two cells each with a 90 KB text."""
    row = (
        f'<table:table-row table:number-rows-repeated="{rows}">'
        '<table:table-cell office:value-type="string"><text:p>某公司</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="2" office:value-type="string">'
        f"<text:p>{'梧' * 30_000}</text:p></table:table-cell></table:table-row>"
    )
    return ods_table("名单", [["企业名称", "备注"]]).replace(
        "</table:table>", row + "</table:table>"
    )


def test_ods_repeating_a_long_text_over_many_cells_is_refused(tmp_path):
    path = write_ods(tmp_path / "long.ods", tables_xml=_repeated_long_text(1000))
    assert path.stat().st_size < 5_000
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path)
    assert str(error.value) == (
        "工作表「名单」的文字内容过多（读取时约需 343.4 MB，上限 128 MB），"
        "可能有大量单元格重复同一段很长的文字；请删除多余的内容或拆分成多个文件后分别导入"
    )


def test_ods_repeating_a_long_text_over_a_few_cells_is_read(tmp_path):
    path = write_ods(tmp_path / "long.ods", tables_xml=_repeated_long_text(20))
    with open_workbook(path) as book:
        rows = list(book.rows())
    assert len(rows) == 21
    assert rows[-1] == (21, ["某公司", "梧" * 30_000, "梧" * 30_000])


def test_xls_fixture_is_read_with_its_merged_header():
    table, rows = read_table(FIXTURES / "county_list.xls", filename="县区名单.xls")
    expected = county_list_rows()
    assert table.header_rows == (3, 4)
    assert labels(table) == [
        "企业名称",
        "统一社会信用代码",
        "成立日期",
        "2024年度主要经济指标 / 营业收入（万元）",
        "2024年度主要经济指标 / 研发费用（万元）",
    ]
    assert rows == [(5 + i, expected[4 + i][1:]) for i in range(3)]
    assert table.skipped == {"total": 1, "footnote": 1}
    with open_workbook(FIXTURES / "county_list.xls") as book:
        assert book.format == "xls"


def test_xls_with_a_value_far_away_is_refused(tmp_path):
    """Move the footnote cell of the fixture to IV65536: calamine would allocate 16.7M cells."""
    data = bytearray((FIXTURES / "county_list.xls").read_bytes())
    extent = xls.scan_xls(FIXTURES / "county_list.xls")["县区名单"]
    assert (extent.last_row, extent.last_column) == (9, 6)
    # The footnote is the only cell of row 9 (index 8): a LABELSST record FD 00 0A 00, row, col 0.
    record = bytes.fromhex("FD000A00") + struct.pack("<HH", 8, 0)
    assert data.count(record) == 1
    at = data.index(record)
    data[at + 4 : at + 8] = struct.pack("<HH", 65535, 255)
    path = tmp_path / "far.xls"
    path.write_bytes(bytes(data))
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path)  # calamine reads every .xls sheet on opening: refused before that
    assert "数据延伸到第 256 列（IV 列）" in str(error.value)


def test_format_is_told_by_content_not_by_extension(tmp_path):
    xlsx = write_xlsx(tmp_path / "list.xls", [HEADER, *FIRMS])
    csv_named_xlsx = tmp_path / "list.xlsx"
    csv_named_xlsx.write_text("企业名称,统一社会信用代码\n甲公司,91450400MA5K000001\n", "utf-8")
    with open_workbook(xlsx) as book:
        assert book.format == "xlsx"
    with open_workbook(csv_named_xlsx) as book:
        assert book.format == "csv"


def test_macro_enabled_workbook_is_xlsm(tmp_path):
    path = write_xlsx(tmp_path / "macro.xlsm", [HEADER, *FIRMS])
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\x00" * 64)
    with open_workbook(path) as book:
        assert book.format == "xlsm"
        assert len(list(book.rows())) == 4


def _docx_like(path: Path) -> None:
    """Write a zip shaped like a Word document: no xl/workbook.xml."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        bytes(range(256)) * 8,
        "docx",
    ],
    ids=["png", "pdf", "random-bytes", "docx"],
)
def test_file_that_is_not_a_spreadsheet_is_refused(tmp_path, content):
    path = tmp_path / "upload.xlsx"
    if content == "docx":
        _docx_like(path)
    else:
        path.write_bytes(content)
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path, filename="企业名单.xlsx")
    assert str(error.value) == f"文件「企业名单.xlsx」{NOT_A_SPREADSHEET}"


def test_truncated_workbook_is_reported_as_damaged(tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *FIRMS])
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path, filename="名单.xlsx")
    assert str(error.value) == "文件「名单.xlsx」已损坏，无法读取"


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path, filename="名单.xlsx")
    assert str(error.value) == "文件「名单.xlsx」是空文件，没有任何内容"


def test_web_page_saved_as_xls_is_refused_with_advice(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("<html><body><table><tr><td>企业名称</td></tr></table></body></html>", "utf-8")
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path)
    assert "是网页或 XML 格式，并非真正的 Excel 文件" in str(error.value)


def test_zip_bomb_is_refused_before_reading(tmp_path):
    path = write_zip_bomb(tmp_path / "bomb.xlsx", 300 * 1024 * 1024)
    assert path.stat().st_size < 5 * 1024 * 1024
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path, filename="名单.xlsx")
    assert str(error.value) == (
        "文件「名单.xlsx」解压后过大（超过 200 MB）或压缩比异常，可能是压缩炸弹，已拒绝处理"
    )


def test_highly_compressed_member_is_refused_by_its_ratio(tmp_path):
    path = write_zip_bomb(tmp_path / "dense.xlsx", 20 * 1024 * 1024)
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path)
    assert "可能是压缩炸弹" in str(error.value)


def test_shared_strings_outnumbering_the_text_cells_are_refused_before_calamine(tmp_path):
    path = write_shared_strings_bomb(tmp_path / "bomb.xlsx", 1_000_000)
    with zipfile.ZipFile(path) as archive:
        part = archive.getinfo("xl/sharedStrings.xml")
        assert part.file_size / part.compress_size < Limits().max_ratio  # passes the bomb check
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path, filename="名单.xlsx")
    assert str(error.value) == (
        "文件「名单.xlsx」的共享字符串表条目数远多于工作表中的 4 个文本单元格，"
        "文件结构异常，已拒绝处理；请用 Excel 打开后另存为 .xlsx 再上传"
    )


def test_a_few_spare_shared_strings_are_accepted(tmp_path):
    spare = shared_entries(f"未使用{i}" for i in range(500))
    path = write_raw_xlsx(
        tmp_path / "list.xlsx",
        shared_row(1, 0, 1) + shared_row(2, 2, 3),
        [shared_entries(["企业名称", "统一社会信用代码", "某某科技有限公司", "x"]), spare],
    )
    with open_workbook(path) as book:
        assert list(book.rows()) == [
            (1, ["企业名称", "统一社会信用代码"]),
            (2, ["某某科技有限公司", "x"]),
        ]


@pytest.mark.parametrize("quote", ['"', "'"])
def test_cells_repeating_a_long_shared_string_are_refused(tmp_path, quote):
    rows = shared_row(1, 0, 1) + "".join(shared_row(n, 2, 3) for n in range(2, 2002))
    rows = rows.replace('t="s"', f"t={quote}s{quote}")
    long_text = "梧" * 32_767  # the most a cell holds, about 96 KB
    path = write_raw_xlsx(
        tmp_path / "long.xlsx", rows, [shared_entries(["企业名称", "备注", "某公司", long_text])]
    )
    assert path.stat().st_size < 100_000
    with open_workbook(path) as book, pytest.raises(SpreadsheetError) as error:
        book.rows()
    assert str(error.value) == (
        "工作表「Sheet1」的文字内容过多（读取时约需 187.7 MB，上限 128 MB），"
        "可能有大量单元格重复同一段很长的文字；请删除多余的内容或拆分成多个文件后分别导入"
    )


def test_many_short_texts_beside_one_long_text_are_read(tmp_path):
    # Every cell showing the longest text would exceed the bound; counting each cell's own
    # string shows the sheet is small.
    long_text = "梧" * 32_767
    rows = shared_row(1, 0, 1) + shared_row(2, 2, 3)
    rows += "".join(shared_row(n, 4, 5) for n in range(3, 3003))
    texts = ["企业名称", "备注", "长备注公司", long_text, "某公司", "短备注"]
    path = write_raw_xlsx(tmp_path / "mixed.xlsx", rows, [shared_entries(texts)])
    with open_workbook(path) as book:
        read = list(book.rows())
    assert len(read) == 3002
    assert read[1] == (2, ["长备注公司", long_text])
    assert read[-1] == (3002, ["某公司", "短备注"])


def test_file_above_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(b"x" * (3 * 1024 * 1024 // 2))
    with pytest.raises(SpreadsheetError) as error:
        open_workbook(path, Limits(max_bytes=1024 * 1024), filename="名单.csv")
    assert str(error.value) == "文件「名单.csv」大小为 1.5 MB，超过 1 MB 的上限"


def test_enormous_stored_dimension_reads_only_the_rows_present(tmp_path):
    rows = [HEADER] + [[i, f"企业{i}", f"91450400MA5K{i:06d}", "万秀区"] for i in range(1, 301)]
    path = write_xlsx(tmp_path / "wide.xlsx", rows)
    set_dimension(path, "A1:XFD1048576")
    append_raw_cells(
        path,
        '<row r="302"><c r="B302" t="inlineStr"><is><t>企业301</t></is></c><c r="XFD302" s="0"/>'
        '</row><row r="1048576"><c r="XFD1048576" s="0"/></row>',
    )
    with open_workbook(path) as book:
        table = find_table(book.rows(), known)
        data = list(table.rows)
    assert len(data) == 301
    assert data[-2] == (301, ["企业300", "91450400MA5K000300", "万秀区"])
    assert data[-1] == (302, ["企业301", None, None])


def test_value_far_to_the_right_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "far.xlsx", [HEADER, *FIRMS])
    append_raw_cells(
        path, '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    with open_workbook(path) as book, pytest.raises(SpreadsheetError) as error:
        book.rows()
    assert str(error.value) == (
        "工作表「Sheet1」的数据延伸到第 16384 列（XFD 列），超过 200 列的上限；"
        "如果表格右侧有零散的内容，请删除后重新上传"
    )


def test_value_far_below_is_refused_as_an_oversized_range(tmp_path):
    path = write_xlsx(tmp_path / "far.xlsx", [[*HEADER, *range(6)], *FIRMS])
    append_raw_cells(
        path, '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    with open_workbook(path) as book, pytest.raises(SpreadsheetError) as error:
        book.rows()
    assert str(error.value) == (
        "工作表「Sheet1」的数据范围过大（A1:J1048576），表格之外可能有零散的单元格，"
        "请删除多余的行列后重新上传"
    )


def test_empty_sheet_has_no_data(tmp_path):
    path = write_xlsx(tmp_path / "empty.xlsx", [])
    with open_workbook(path) as book:
        with pytest.raises(SpreadsheetError) as error:
            book.rows()
        assert str(error.value) == "工作表「Sheet1」没有数据"
        with pytest.raises(SpreadsheetError) as error:
            book.pick_sheet(known)
        assert str(error.value) == "工作表「Sheet1」没有数据"


def test_too_many_rows_are_refused(tmp_path):
    path = write_xlsx(tmp_path / "long.xlsx", [HEADER] + [[i, f"企业{i}"] for i in range(1, 16)])
    with open_workbook(path, Limits(max_rows=10)) as book, pytest.raises(SpreadsheetError) as error:
        list(book.rows())
    assert str(error.value) == "工作表「Sheet1」的数据超过 10 行的上限，请拆分成多个文件后分别导入"


def test_too_many_rows_in_csv_are_refused_while_streaming(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("企业名称\n" + "".join(f"企业{i}\n" for i in range(20)), "utf-8")
    with open_workbook(path, Limits(max_rows=10)) as book, pytest.raises(SpreadsheetError) as error:
        list(book.rows())
    assert "的数据超过 10 行的上限" in str(error.value)


def test_too_many_columns_are_refused(tmp_path):
    path = write_xlsx(tmp_path / "wide.xlsx", [HEADER, FIRMS[0], [*FIRMS[1], None, "x"]])
    with (
        open_workbook(path, Limits(max_columns=5)) as book,
        pytest.raises(SpreadsheetError) as error,
    ):
        list(book.rows())
    assert "数据延伸到第 6 列（F 列），超过 5 列的上限" in str(error.value)


def test_unknown_sheet_name_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER])
    with open_workbook(path) as book, pytest.raises(SpreadsheetError) as error:
        book.rows("名单")
    assert str(error.value) == "工作簿中没有名为「名单」的工作表"


@pytest.mark.parametrize(
    ("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"), (16383, "XFD")]
)
def test_column_letter(index, letter):
    assert column_letter(index) == letter


def test_a_member_packed_with_an_unknown_compression_method_is_a_scan_error(tmp_path):
    from crm.spreadsheets import scan

    path = tmp_path / "book.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with zipfile.ZipFile(path) as archive:
        archive.getinfo("xl/workbook.xml").compress_type = 99  # as a hostile file declares it
        with pytest.raises(scan.ScanError, match="compression method 99"):
            scan.verify_members(archive, ["xl/workbook.xml"])
