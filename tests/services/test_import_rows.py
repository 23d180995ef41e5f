"""The rows of a firm list against a real database: repeated codes, values that cannot be
right, reference data the system does not know, and the firm's contact person."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.core import clock
from crm.excel.stored import Describer
from crm.extensions import db
from crm.firms.models import Firm, FirmFormerName, FirmYear
from tests import factories
from tests.services.test_imports import NOW, apply, firm_sheet, preview, rows_of, workbook


@pytest.fixture(autouse=True)
def _frozen_clock(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


def issues(row, level=None) -> list[tuple[str, str]]:
    """Return (column letter, message) of a stored row's problems, of one level if given."""
    return [(letter, text) for letter, lvl, text in row.issues or [] if level in (None, lvl)]


# --- A credit code repeated inside one file -----------------------------------------------------


def test_a_repeated_code_imports_the_first_row_and_rejects_the_later_ones_on_the_code(tmp_path):
    code = factories.make_uscc()
    path = firm_sheet(
        tmp_path,
        ["梧州重码有限公司", code, "甲", 100, None],
        ["梧州别的有限公司", factories.make_uscc(), None, None, None],
        ["梧州重码有限公司（二）", code, "乙", 200, None],
        ["梧州重码有限公司（三）", code, "丙", None, None],
    )
    batch, plan = preview(path)
    rows = rows_of(batch)
    assert rows[2].action == "create" and not rows[2].issues
    for number in (4, 5):
        assert rows[number].action == "rejected"
        assert issues(rows[number]) == [
            ("B", "统一社会信用代码与第 2 行相同：同一企业只按第 2 行导入，本行未导入")
        ]
    assert batch.counts["create"] == 2 and batch.counts["rejected"] == 2
    apply(batch, plan, valid_only=True)
    firm = db.session.scalar(select(Firm).filter_by(uscc=code))
    assert (firm.name, firm.legal_representative) == ("梧州重码有限公司", "甲")


def test_a_repeat_across_chunks_and_by_name_names_the_first_row_and_its_column(
    tmp_path, monkeypatch
):
    from crm.excel import dryrun

    monkeypatch.setattr(dryrun, "CHUNK_ROWS", 2)
    known = factories.make_firm(name="梧州已有有限公司")
    db.session.add(FirmFormerName(firm_id=known.id, name="梧州曾用名有限公司"))
    db.session.commit()
    path = firm_sheet(
        tmp_path,
        ["梧州已有有限公司", known.uscc, "甲", None, None],
        ["梧州同名有限公司", factories.make_uscc(), None, None, None],
        ["梧州同名有限公司", factories.make_uscc(), None, None, None],
        ["梧州曾用名有限公司", None, "乙", None, None],
    )
    batch, _plan = preview(path)
    rows = rows_of(batch)
    assert rows[2].action == "update" and rows[3].action == "create"
    assert issues(rows[4], "error") == [
        ("A", "企业名称与第 3 行相同：同一企业只按第 3 行导入，本行未导入")
    ]
    assert issues(rows[5], "error") == [("A", "与第 2 行是同一企业：只按第 2 行导入，本行未导入")]


def test_other_kinds_keep_the_first_of_repeated_records(tmp_path):
    firm = factories.make_firm(name="梧州年报重复有限公司")
    db.session.commit()
    path = workbook(
        tmp_path,
        [
            ["企业名称", "年度", "销售收入（万元）"],
            ["梧州年报重复有限公司", 2024, 100],
            ["梧州年报重复有限公司", 2024, 120],
        ],
    )
    batch, plan = preview(path, kind="years")
    rows = rows_of(batch)
    assert rows[2].action == "create"
    assert issues(rows[3]) == [("A", "与第 2 行是同一记录：只按第 2 行导入，本行未导入")]
    apply(batch, plan, valid_only=True)
    year = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id, year=2024))
    assert year.sales_revenue == Decimal("1000000.00")


# --- Values that cannot be right ----------------------------------------------------------------

FIGURES = ["企业名称", "统一社会信用代码", "注册资本（万元）", "2024年营业收入（万元）"]
FIGURES += [
    "2024年研发费用（万元）",
    "2024年资产总额（万元）",
    "2024年职工总数",
    "2024年科技人员数",
]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("C", -5, "「-5」是负数，注册资本不能为负"),
        ("D", -1.5, "「-1.5」是负数，销售收入不能为负"),
        ("D", "-1,200", "「-1,200」是负数，销售收入不能为负"),
        ("E", "（30）", "「（30）」是负数，研发费用不能为负"),
        ("F", -0.01, "「-0.01」是负数，资产总额不能为负"),
        ("G", -3, "「-3」是负数，职工总数不能为负"),
        ("H", "-2人", "「-2人」是负数，科技人员数不能为负"),
        ("D", "12.5%", "「12.5%」是百分比，这里应填写数值"),
    ],
)
def test_a_value_that_cannot_be_right_is_an_error_on_its_cell(tmp_path, column, value, message):
    cells = ["梧州负数有限公司", factories.make_uscc(), 10, 100, 5, 300, 20, 3]
    cells["ABCDEFGH".index(column)] = value
    batch, _plan = preview(workbook(tmp_path, [FIGURES, cells]))
    row = rows_of(batch)[2]
    assert row.action == "rejected"
    assert issues(row) == [(column, message)]


def test_zero_is_a_value_like_any_other(tmp_path):
    cells = ["梧州零值有限公司", factories.make_uscc(), 0, 0, 0, 0, 0, 0]
    batch, _plan = preview(workbook(tmp_path, [FIGURES, cells]))
    assert rows_of(batch)[2].action == "create"


def test_a_missing_name_and_a_new_firm_without_a_code_name_their_columns(tmp_path):
    path = firm_sheet(
        tmp_path,
        [None, factories.make_uscc(), "甲", 100, None],
        ["梧州无码有限公司", None, "乙", 100, None],
    )
    batch, _plan = preview(path)
    rows = rows_of(batch)
    assert issues(rows[2]) == [("A", "新建企业需填写企业名称")]
    assert issues(rows[3]) == [
        ("B", "新建企业需填写统一社会信用代码；系统中也没有名为「梧州无码有限公司」的企业")
    ]
    assert batch.counts["rejected"] == 2
    assert db.session.scalar(select(func.count(Firm.id))) == 0


def test_a_sheet_without_a_code_column_matches_existing_firms_by_name_with_a_warning(tmp_path):
    firm = factories.make_firm(name="梧州按名有限公司", legal_representative="甲")
    db.session.commit()
    path = workbook(
        tmp_path,
        [
            ["企业名称", "法定代表人"],
            ["梧州按名有限公司", "乙"],
            ["梧州新来无码有限公司", "丙"],
        ],
    )
    batch, plan = preview(path)
    rows = rows_of(batch)
    assert rows[2].action == "update"
    assert issues(rows[2]) == [
        ("A", "本行未填统一社会信用代码，已按企业名称匹配到系统中的企业，请核对")
    ]
    assert rows[3].action == "rejected"
    assert issues(rows[3]) == [
        ("", "新建企业需填写统一社会信用代码；系统中也没有名为「梧州新来无码有限公司」的企业")
    ]
    apply(batch, plan, valid_only=True)
    assert db.session.get(Firm, firm.id).legal_representative == "乙"


def test_a_row_with_a_code_matches_by_code_and_fills_in_a_code_missing_from_a_named_firm(
    tmp_path,
):
    named = factories.make_firm(name="梧州补码有限公司", uscc=None)
    db.session.commit()
    code = factories.make_uscc()
    batch, plan = preview(firm_sheet(tmp_path, ["梧州补码有限公司", code, None, None, None]))
    row = rows_of(batch)[2]
    assert row.action == "update" and row.firm_id == named.id
    assert issues(row) == [
        ("B", "系统中的「梧州补码有限公司」尚无统一社会信用代码，已按企业名称匹配并补填，请核对")
    ]
    apply(batch, plan)
    assert db.session.get(Firm, named.id).uscc == code


# --- Reference data the system does not know ----------------------------------------------------


def test_an_unknown_tech_field_or_industry_is_a_warning_and_the_firm_is_imported(tmp_path):
    path = workbook(
        tmp_path,
        [
            ["企业名称", "统一社会信用代码", "所属行业", "技术领域", "所属县（市、区）"],
            ["梧州领域有限公司", factories.make_uscc(), "量子玄学", "时空穿梭", "万秀区"],
            ["梧州县区有限公司", factories.make_uscc(), "电子信息", "电子信息", "火星区"],
        ],
    )
    batch, plan = preview(path)
    rows = rows_of(batch)
    assert rows[2].action == "create"
    warned = issues(rows[2], "warning")
    assert [letter for letter, _ in warned] == ["C", "D"]
    assert warned[0][1].startswith("无法识别的行业「量子玄学」，已留空，请导入后补填；可填：")
    assert warned[1][1].startswith("无法识别的技术领域「时空穿梭」，已留空，请导入后补填；可填：")
    assert rows[3].action == "rejected"
    assert issues(rows[3]) == [("E", "「火星区」不是本市的县（市、区）")]
    apply(batch, plan, valid_only=True)
    firm = db.session.scalar(select(Firm).filter_by(name="梧州领域有限公司"))
    assert firm.industry_id is None and firm.tech_field_id is None
    assert firm.district.name == "万秀区"


def test_an_unknown_tech_field_leaves_the_stored_one_of_an_existing_firm(tmp_path):
    firm = factories.make_firm(name="梧州旧领域有限公司")
    db.session.commit()
    stored = db.session.get(Firm, firm.id).tech_field_id
    path = workbook(
        tmp_path,
        [["企业名称", "统一社会信用代码", "技术领域"], ["梧州旧领域有限公司", firm.uscc, "玄学"]],
    )
    batch, _plan = preview(path)
    row = rows_of(batch)[2]
    assert row.action == "unchanged" and Describer().changes(row.writes) == []
    assert issues(row, "warning")[0][0] == "C"
    assert db.session.get(Firm, firm.id).tech_field_id == stored


def test_a_row_of_another_kind_without_name_or_code_marks_the_name_column(tmp_path):
    path = workbook(
        tmp_path,
        [["企业名称", "统一社会信用代码", "年度", "销售收入（万元）"], [None, None, 2024, 100]],
    )
    batch, _plan = preview(path, kind="years")
    assert issues(rows_of(batch)[2]) == [
        ("A", "缺少企业名称和统一社会信用代码，无法确定是哪家企业")
    ]
