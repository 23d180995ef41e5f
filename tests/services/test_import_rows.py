"""The rows of a firm list against a real database: repeated codes, values that cannot be
right, reference data the system does not know, and the firm's contact person."""

from decimal import Decimal

import pytest
from sqlalchemy import select

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
