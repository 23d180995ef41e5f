"""What a county workbook says around its table: the year above yearless columns, formulas in
its cells, and which of its sheets holds the data."""

import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.excel import services, sheets, years
from crm.excel.models import ImportBatch, ImportRow
from crm.extensions import db
from crm.firms.models import Firm, FirmYear
from crm.jobs import queue
from tests import factories
from tests.spreadsheet_builders import OdsFormula, append_raw_cells, write_ods, write_xlsx

NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


def preview(path, kind="firms", **options):
    batch = services.start_import_from_path(kind, path, None, options)
    services.run_preview(batch, annotated=path.with_name("annotated.xlsx"))
    db.session.commit()
    return batch


def apply(batch):
    batch.options = {**batch.options, "valid_only": True}
    services.run_apply(batch)
    db.session.commit()
    return batch


def rows_of(batch) -> dict[int, ImportRow]:
    return {
        r.row_number: r
        for r in db.session.scalars(select(ImportRow).where(ImportRow.batch_id == batch.id))
    }


def column(batch, letter) -> dict:
    return next(c for c in batch.columns if c["letter"] == letter)


def staff_of(code) -> dict[int, tuple]:
    firm = db.session.scalar(select(Firm).filter_by(uscc=code))
    years = db.session.scalars(select(FirmYear).filter_by(firm_id=firm.id))
    return {y.year: (y.total_staff, y.tech_staff, y.sales_revenue) for y in years}


# --- Yearless columns ------------------------------------------------------------------------


def staff_rows(code_a, code_b, *, title="万秀区高企后备库企业名单"):
    """A list whose 职工总数, 科技人员数 and 营业收入 headers name no year."""
    return [
        [title],
        ["填报单位：万秀区科技局", None, None, "填报日期：2025年3月1日"],
        ["企业名称", "统一社会信用代码", "职工总数", "科技人员数", "营业收入（万元）"],
        ["梧州甲科技有限公司", code_a, 120, 18, 1500],
        ["梧州乙新材料有限公司", code_b, 80, 9, 700],
    ]


def test_yearless_columns_take_the_year_of_the_group_header_before_the_title(tmp_path):
    code_a, code_b = factories.make_uscc("450403"), factories.make_uscc("450481")
    rows = [
        ["2025年度万秀区高企后备库企业名单"],
        ["企业名称", "统一社会信用代码", "2024年度主要经济指标", None, "职工总数"],
        [None, None, "营业收入（万元）", "研发费用（万元）", None],
        ["梧州甲科技有限公司", code_a, 1500, 80, 120],
        ["梧州乙新材料有限公司", code_b, 700, 35, 80],
    ]
    merges = ["A2:A3", "B2:B3", "C2:D2", "E2:E3"]
    batch = preview(write_xlsx(tmp_path / "名单.xlsx", rows, merges=merges))
    staff = column(batch, "E")
    assert staff["key"] == "total_staff" and not staff["needs_year"]
    assert staff["year_from"] == "2024 年（表头「2024年度主要经济指标」）"
    apply(batch)
    firm = db.session.scalar(select(Firm).filter_by(uscc=code_a))
    year = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id))
    assert (year.year, year.total_staff, year.rd_expense) == (2024, 120, 800000)


@pytest.mark.parametrize(
    ("title", "sheet", "filename", "year", "source"),
    [
        ("2023年度万秀区高企后备库企业名单", "Sheet1", "名单.xlsx", 2023, "标题行"),
        ("万秀区高企后备库企业名单", "2022年", "名单.xlsx", 2022, "工作表名"),
        ("万秀区高企后备库企业名单", "名单", "2021年万秀区名单.xlsx", 2021, "文件名"),
    ],
    ids=["title", "sheet name", "file name"],
)
def test_yearless_columns_take_the_year_of_the_title_the_sheet_or_the_file(
    tmp_path, title, sheet, filename, year, source
):
    """The 填报日期 line names a date, not the year of the figures: it is passed over."""
    code_a, code_b = factories.make_uscc("450403"), factories.make_uscc("450481")
    path = write_xlsx(tmp_path / filename, staff_rows(code_a, code_b, title=title), title=sheet)
    batch = preview(path)
    for letter in "CDE":
        assert column(batch, letter)["year_from"].startswith(f"{year} 年（{source}「")
    assert not any(c["needs_year"] for c in batch.columns)
    apply(batch)
    assert staff_of(code_a) == {year: (120, 18, 15000000)}


def test_without_a_year_the_columns_are_checked_reported_and_imported_once_it_is_given(tmp_path):
    code_a, code_b = factories.make_uscc("450403"), factories.make_uscc("450481")
    rows = staff_rows(code_a, code_b)
    rows[4][2] = "约80人"
    batch = preview(write_xlsx(tmp_path / "名单.xlsx", rows, title="名单"))
    assert [c["letter"] for c in batch.columns if c["needs_year"]] == ["C", "D", "E"]
    # Read and checked all the same: the bad count is an error on its cell.
    [(letter, level, message)] = rows_of(batch)[5].issues
    assert (letter, level) == ("C", "error") and "约80人" in message
    assert batch.counts["create"] == 1 and batch.counts["rejected"] == 1
    assert batch.notices == []

    services.request_year(batch, None, 2024)
    services.run_preview(batch)
    assert not any(c["needs_year"] for c in batch.columns)
    assert column(batch, "C")["year_from"] == "2024 年（导入时指定的年度）"
    assert column(batch, "C")["year"] is None  # the mapping keeps no year the sheet did not name
    apply(batch)
    assert staff_of(code_a) == {2024: (120, 18, 15000000)}


def test_the_import_command_reports_yearless_columns_and_takes_the_year_from_year(app, tmp_path):
    code_a, code_b = factories.make_uscc("450403"), factories.make_uscc("450481")
    path = write_xlsx(tmp_path / "名单.xlsx", staff_rows(code_a, code_b), title="名单")
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["crm", "import", str(path), "--kind", "firms", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (
        "未导入的列：C「职工总数」、D「科技人员数」、E「营业收入（万元）」：未注明年度，已校验但未导入"
        in dry.output
    )
    assert "请用 --year 指定这些列的年度后重新运行" in dry.output

    args = ["crm", "import", str(path), "--kind", "firms", "--year", "2024"]
    done = runner.invoke(args=args)
    assert done.exit_code == 0, done.output
    assert (
        "年度：C「职工总数」、D「科技人员数」、E「营业收入（万元）」："
        "列名未注明年度，按 2024 年（导入时指定的年度）" in done.output
    )
    assert staff_of(code_a) == {2024: (120, 18, 15000000)}


# --- The right sheet -------------------------------------------------------------------------

FIRM_HEADER = ["序号", "企业名称", "统一社会信用代码", "所属县（市、区）"]
INSTRUCTIONS = [["填表说明"], ["企业名称", "与营业执照一致"], ["所属县（市、区）", "如 万秀区"]]


def three_sheets(tmp_path, data_rows, name="名单.xlsx"):
    """Instructions, a blank template, then the data sheet."""
    template = [[*FIRM_HEADER, "成立日期", "备注"], [1], [2]]
    return write_xlsx(
        tmp_path / name,
        [["2024年度万秀区名单"], FIRM_HEADER, *data_rows],
        title="名单",
        extra_sheets={"填表说明": INSTRUCTIONS, "空白模板": template},
        first=False,
    )


def test_the_sheet_with_the_data_is_read_and_the_others_are_offered(tmp_path):
    codes = [factories.make_uscc("450403") for _ in range(2)]
    data = [
        [1, "梧州甲科技有限公司", codes[0], "万秀区"],
        [2, "梧州乙科技有限公司", codes[1], "万秀区"],
    ]
    batch = preview(three_sheets(tmp_path, data))
    assert batch.sheet == "名单" and batch.counts["create"] == 2
    assert sheets.described(batch) == (
        "已读取工作表「名单」（2 行数据）；其他工作表：填表说明（未找到表头）、空白模板（0 行数据）"
    )
    # The blank template has nothing to offer; the instructions may be mapped by hand.
    assert [s["name"] for s in sheets.offered(batch)] == ["填表说明"]
    with pytest.raises(services.ImportRequestError, match="工作表「空白模板」没有可导入的数据"):
        services.request_sheet(batch, None, "空白模板")


def test_a_chosen_sheet_without_data_rows_is_refused_naming_the_sheet_that_has_them(tmp_path):
    data = [[1, "梧州甲科技有限公司", factories.make_uscc("450403"), "万秀区"]]
    path = three_sheets(tmp_path, data)
    batch = services.start_import_from_path("firms", path, None, {"sheet": "空白模板"})
    with pytest.raises(queue.JobError) as error:
        services.run_preview(batch)
    assert error.value.message == (
        "工作表「空白模板」的表头（第 1 行）下没有数据行；数据在工作表「名单」（1 行）中，"
        "请改选该工作表重新预检"
    )


def test_a_workbook_without_data_rows_anywhere_is_refused_and_nothing_is_applied(app, tmp_path):
    path = three_sheets(tmp_path, [["合计", None, None, None], ["注：无"]])
    result = app.test_cli_runner().invoke(args=["crm", "import", str(path), "--kind", "firms"])
    assert result.exit_code == 1
    assert (
        "文件「名单.xlsx」中没有可导入的数据：工作表「空白模板」的表头（第 1 行）下没有数据行，"
        "工作表「填表说明」未找到表头，工作表「名单」也没有数据行；请检查上传的是否为空白模板"
    ) in result.output
    db.session.rollback()
    assert db.session.scalars(select(ImportBatch)).all() == []


def test_the_import_command_says_which_sheet_it_read(app, tmp_path):
    data = [[1, "梧州甲科技有限公司", factories.make_uscc("450403"), "万秀区"]]
    path = three_sheets(tmp_path, data)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "import", str(path), "--kind", "firms", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        "已读取工作表「名单」（1 行数据）；其他工作表：填表说明（未找到表头）、"
        "空白模板（0 行数据）（可用 --sheet 指定）"
    ) in result.output


# --- Formulas --------------------------------------------------------------------------------

FORMULA_HEADER = [
    "企业名称",
    "统一社会信用代码",
    "地址",
    "营业收入（万元）",
    "研发费用（万元）",
    "职工总数",
]


def formula_xlsx(tmp_path, code_a, code_b, code_c):
    """Three firms whose cells hold formulas as Excel saves them (the value after the formula)."""
    path = write_xlsx(tmp_path / "2024年名单.xlsx", [FORMULA_HEADER])
    cells = {
        2: f'<c r="A2" t="str"><f>HYPERLINK("http://x","梧州甲科技有限公司")</f>'
        f"<v>梧州甲科技有限公司</v></c>"
        f'<c r="B2" t="inlineStr"><is><t>{code_a}</t></is></c>'
        '<c r="D2"><f>1000+500</f><v>1500</v></c><c r="E2"><v>80</v></c>'
        '<c r="F2"><v>120</v></c>',
        3: '<c r="A3" t="inlineStr"><is><t>梧州乙科技有限公司</t></is></c>'
        f'<c r="B3" t="inlineStr"><is><t>{code_b}</t></is></c>'
        '<c r="C3" t="inlineStr"><is><t>=HYPERLINK("http://x","万秀区")</t></is></c>'
        '<c r="D3"><f>600+100</f><v>700</v></c><c r="E3" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        '<c r="F3"><f>SUM(G3:H3)</f><v/></c>',
        4: '<c r="A4" t="inlineStr"><is><t>梧州丙科技有限公司</t></is></c>'
        f'<c r="B4" t="inlineStr"><is><t>{code_c}</t></is></c>'
        '<c r="C4" t="str"><f>"万秀区"&amp;"某路1号"</f><v>万秀区某路1号</v></c>'
        '<c r="D4"><f>D2/3</f><v>500</v></c><c r="F4"><v>45</v></c>',
    }
    return append_raw_cells(path, "".join(f'<row r="{n}">{xml}</row>' for n, xml in cells.items()))


def formula_ods(tmp_path, code_a, code_b, code_c):
    """The same three firms as LibreOffice saves them."""
    rows = [
        FORMULA_HEADER,
        [
            OdsFormula('HYPERLINK("http://x";"梧州甲科技有限公司")', "梧州甲科技有限公司"),
            code_a,
            None,
            OdsFormula("1000+500", 1500),
            80,
            120,
        ],
        [
            "梧州乙科技有限公司",
            code_b,
            '=HYPERLINK("http://x","万秀区")',
            OdsFormula("600+100", 700),
            OdsFormula("1/0", "#DIV/0!"),
            OdsFormula("SUM([.G3:.H3])"),
        ],
        [
            "梧州丙科技有限公司",
            code_c,
            OdsFormula('"万秀区"&"某路1号"', "万秀区某路1号"),
            OdsFormula("[.D2]/3", 500),
            None,
            45,
        ],
    ]
    return write_ods(tmp_path / "2024年名单.ods", {"名单": rows})


@pytest.mark.parametrize("build", [formula_xlsx, formula_ods], ids=["xlsx", "ods"])
def test_formula_cells_are_refused_in_text_fields_and_read_by_their_value_in_number_fields(
    tmp_path, build
):
    codes = [factories.make_uscc("450403") for _ in range(3)]
    batch = preview(build(tmp_path, *codes))
    rows = rows_of(batch)
    # A formula in the name column: refused on its cell, never kept as the firm's name.
    [(letter, level, message)] = rows[2].issues
    assert (letter, level) == ("A", "error")
    assert message.startswith("该单元格是公式「=HYPERLINK(") and "不能作为文字导入" in message
    assert rows[2].action == "rejected" and rows[2].firm_name != "梧州甲科技有限公司"
    # Text typed to look like a formula, an error value, a formula without its value.
    issues = {letter: message for letter, _level, message in rows[3].issues}
    assert issues["C"] == (
        '「=HYPERLINK("http://x","万秀区")」是公式或像公式的文字，不能导入；请改为实际内容'
    )
    assert "#DIV/0!" in issues["E"]
    assert issues["F"].startswith("该单元格是公式「=SUM(") and "没有保存计算结果" in issues["F"]
    # A formula in a text field is refused even when its value is good text.
    assert [i[0] for i in rows[4].issues] == ["C"]
    assert all(row.action == "rejected" for row in rows.values())
    assert batch.counts["rejected"] == 3


def test_a_formula_in_a_number_field_is_read_by_the_value_the_file_keeps(tmp_path):
    codes = [factories.make_uscc("450403") for _ in range(3)]
    for code in codes:
        factories.make_firm(uscc=code)
    path = formula_xlsx(tmp_path, *codes)
    batch = services.start_import_from_path("firms", path, None, {})
    batch.options = {**batch.options, "mapped": True}
    keys = ["", "uscc", "", "sales_revenue", "", ""]
    batch.columns = [
        {"label": label, "key": key, "scale": "10000" if key == "sales_revenue" else None}
        for label, key in zip(FORMULA_HEADER, keys, strict=True)
    ]
    services.run_preview(batch)
    apply(batch)
    assert [staff_of(code) for code in codes] == [
        {2024: (None, None, 15000000)},
        {2024: (None, None, 7000000)},
        {2024: (None, None, 5000000)},
    ]


# --- A county list from end to end -----------------------------------------------------------

COUNTY_MERGES = [
    "A1:K1",
    *(f"{c}3:{c}4" for c in "ABCDEF"),
    "G3:H3",
    *(f"{c}3:{c}4" for c in "IJK"),
]
COUNTY_INSTRUCTIONS = [
    ["填表说明"],
    ["1. 企业名称须与营业执照一致；统一社会信用代码为 18 位"],
    ["2. 联系电话填写手机或座机"],
    ["3. 经济指标单位为万元"],
]


def county_list(codes: list[str]) -> list[list]:
    """A county's list as it circulates: title, unit line, two-level header, 合计 and a note."""
    return [
        ["2024年度藤县高企后备库企业名单"],
        [
            "填报单位：藤县科学技术局",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "填报日期：2025年3月1日",
        ],
        [
            "序号",
            "企业名称",
            "统一社会信用代码",
            "所属县（市、区）",
            "联系人",
            "联系电话",
            "2024年度主要经济指标",
            None,
            "职工总数",
            "科技人员数",
            "备注",
        ],
        [None, None, None, None, None, None, "营业收入（万元）", "研发费用（万元）"],
        [
            1,
            "藤县甲电子科技有限公司",
            codes[0],
            "藤县",
            "张三",
            13807740001,
            1234.5,
            61.7,
            120,
            18,
            "拟申报",
        ],
        [2, "藤县乙新材料有限公司", codes[1], "藤县", "李四", "0774-7654321", 860, 43, 80, 9],
        [3, "藤县丙农业科技有限公司", "123", "藤县", "王五", "13807740003", 300, 10, 20, 3],
        [4, "藤县丁智能装备有限公司", codes[3], "藤县", "赵六", "13807740004", 500, "约20", 30, 5],
        ["合计", None, None, None, None, None, 2894.5, 134.7, 250, 35],
        ["注：经济指标为企业填报的2024年度数据。"],
    ]


def county_xlsx(tmp_path, codes):
    return write_xlsx(
        tmp_path / "藤县名单.xlsx",
        county_list(codes),
        title="名单",
        merges=COUNTY_MERGES,
        extra_sheets={"填表说明": COUNTY_INSTRUCTIONS},
        first=False,
    )


def county_ods(tmp_path, codes):
    """The same book saved by LibreOffice (which python-calamine reads without its merges)."""
    sheets = {"填表说明": COUNTY_INSTRUCTIONS, "名单": county_list(codes)}
    return write_ods(tmp_path / "藤县名单.ods", sheets)


def county_csv(tmp_path, codes):
    """The data sheet saved as CSV in GBK, as WPS does: no merges, numbers as text."""
    path = tmp_path / "藤县名单.csv"
    lines = [",".join("" if v is None else str(v) for v in row) for row in county_list(codes)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


WITH_INSTRUCTIONS = "已读取工作表「名单」（4 行数据）；其他工作表：填表说明（未找到表头）"


@pytest.mark.parametrize(
    ("build", "described"),
    [(county_xlsx, WITH_INSTRUCTIONS), (county_ods, WITH_INSTRUCTIONS), (county_csv, None)],
    ids=["xlsx", "ods", "gbk csv"],
)
def test_a_county_list_imports_every_good_value_and_accounts_for_everything_else(
    tmp_path, build, described
):
    codes = [factories.make_uscc("450422") for _ in range(4)]
    batch = preview(build(tmp_path, codes))

    # The data sheet, its two-level header, and every row below it accounted for.
    assert batch.header_rows == [3, 4] and sheets.described(batch) == described
    rows = rows_of(batch)
    assert sorted(rows) == [5, 6, 7, 8]
    assert batch.skipped_rows == {"total": 1, "footnote": 1}
    # Bad cells are errors on their own columns; the good rows are clean.
    assert [(i[0], i[1]) for i in rows[7].issues] == [("C", "error")]
    assert [(i[0], i[1]) for i in rows[8].issues] == [("H", "error")]
    assert rows[5].issues is None and rows[6].issues is None
    assert batch.counts["create"] == 2 and batch.counts["rejected"] == 2

    # Every column is imported, or named in the summary with the reason.
    by_letter = {c["letter"]: c for c in batch.columns}
    assert set(by_letter) == set("BCDEFGHIJK")
    assert by_letter["G"]["label"] == "2024年度主要经济指标 / 营业收入（万元）"
    assert by_letter["I"]["year_from"] == "2024 年（表头「2024年度主要经济指标」）"
    left_out = {c["letter"] for c in batch.columns if not c["key"] or c["needs_year"]}
    summary = "".join(years.not_imported(batch.columns))
    assert all(f"{letter}「{by_letter[letter]['label']}」" in summary for letter in left_out)
    assert left_out == set()
    assert (by_letter["E"]["key"], by_letter["F"]["key"]) == ("contact_name", "contact_phone")

    apply(batch)
    first = db.session.scalar(select(Firm).filter_by(uscc=codes[0]))
    assert (first.name, first.district.name, first.notes) == (
        "藤县甲电子科技有限公司",
        "藤县",
        "拟申报",
    )
    second = db.session.scalar(select(Firm).filter_by(uscc=codes[1]))
    assert second.name == "藤县乙新材料有限公司" and second.notes is None
    assert staff_of(codes[0]) == {2024: (120, 18, Decimal("12345000.00"))}
    assert staff_of(codes[1]) == {2024: (80, 9, Decimal("8600000.00"))}
    rd = db.session.scalar(select(FirmYear.rd_expense).where(FirmYear.firm_id == first.id))
    assert rd == Decimal("617000.00")
    assert db.session.scalar(select(Firm).filter_by(uscc=codes[3])) is None
    # The contacts: a phone stored as a number keeps its digits, one typed as text stays as is.
    assert [(c.name, c.phone) for c in first.contacts] == [("张三", "13807740001")]
    assert [(c.name, c.phone) for c in second.contacts] == [("李四", "0774-7654321")]


def test_the_xls_county_list_still_imports(tmp_path):
    """tests/fixtures/county_list.xls: a title, a merged two-level header, 合计 and a note."""
    path = tmp_path / "county_list.xls"
    shutil.copyfile(Path(__file__).parent.parent / "fixtures" / "county_list.xls", path)
    batch = preview(path)
    assert batch.header_rows == [3, 4] and batch.skipped_rows == {"total": 1, "footnote": 1}
    assert batch.counts["create"] == 3 and batch.counts["rejected"] == 0
    assert years.not_imported(batch.columns) == []
    apply(batch)
    firm = db.session.scalar(select(Firm).filter_by(name="梧州市星火电子科技有限公司"))
    assert firm.established_on == date(2015, 6, 18)
    figures = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id))
    assert (figures.year, figures.sales_revenue, figures.rd_expense) == (
        2024,
        Decimal("52305000.00"),
        Decimal("3120000.00"),
    )
