"""The funnel report workbook on the known world of test_indicators (report year 2025).

The workbook is opened again with openpyxl: its sheets, its figures (equal to the queries), its
charts and the cells they read, its print settings, and text that would be a formula.
"""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from crm.dashboard import funnel, indicators
from crm.dashboard.filters import DashboardFilters
from crm.dashboard.models import Target
from crm.dashboard.workbook import ReportContext, build_report, filename
from crm.extensions import db
from tests.services.test_indicators import TODAY, YEAR_END, world  # noqa: F401

HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture
def targets(world):  # noqa: F811
    db.session.add_all(
        [
            Target(year=2025, indicator="hte_count", district_id=None, value=Decimal(10)),
            Target(
                year=2025,
                indicator="hte_count",
                district_id=world["home"].id,
                value=Decimal(4),
                placeholder=True,
            ),
            Target(year=2025, indicator="support_paid", district_id=None, value=Decimal(54)),
        ]
    )
    db.session.commit()
    return world


def report(filters=None, scope=None, partial=False):
    context = ReportContext(
        filters=filters or DashboardFilters(2025),
        scope=scope,
        city="梧州市",
        today=TODAY,
        partial=partial,
    )
    return load_workbook(BytesIO(build_report(context)))


def rows_of(sheet) -> dict:
    """Return the sheet's rows by the text of their first cell."""
    return {row[0].value: row for row in sheet.iter_rows() if row[0].value is not None}


def test_sheets_title_and_filters(targets):
    book = report(DashboardFilters(2025, district_id=targets["home"].id))
    assert book.sheetnames == ["汇总", "按县区", "按园区", "按技术领域", "按服务专员", "转化"]
    summary = book["汇总"]
    assert summary["A1"].value == "梧州市科技企业培育漏斗报告（2025年）"
    assert summary["A1"].font.b
    assert summary["A2"].value.startswith("统计日：2025-12-31")
    assert summary["A3"].value == (
        f"筛选条件：年度：2025；县（市、区）：{targets['home'].name}；园区：全部；技术领域：全部；"
        "服务专员：全部"
    )
    assert filename("梧州市", 2025) == "梧州市科技企业培育漏斗报告_2025.xlsx"


def test_summary_indicators_against_targets(targets):
    rows = rows_of(report()["汇总"])
    hte = rows["高新技术企业数"]
    assert [c.value for c in hte[1:5]] == ["家", 2, 10, 0.2]
    assert hte[4].number_format == "0.0%"
    pool = indicators.pool_rd_intensity(2025)[0]
    rd = rows["后备库企业研发投入强度"]
    assert rd[2].value == round(pool.percent, 2) == 4.33
    assert rd[3].value is None and rd[4].value is None
    assert f"后备库 {pool.firms} 家，其中 2 家有 2025 年数据" in rd[5].value
    assert rows["有效发明专利"][2].value == indicators.invention_patents(YEAR_END)[0].count == 2
    paid = rows["扶持资金兑现"]
    assert paid[2].value == 27.0
    assert paid[2].number_format == "#,##0.00"
    assert paid[4].value == pytest.approx(0.5)


def test_summary_stages_support_and_expiry(targets):
    sheet = report()["汇总"]
    rows = rows_of(sheet)
    for stage in funnel.firms_per_stage("hte"):
        assert rows[stage.stage_name][1].value == stage.firms
    assert rows["高企后备库"][1].value == 2
    # The listing table sits beside the high-tech one.
    listing = {
        row[3].value: row[4].value for row in sheet.iter_rows() if row[3].value == "入库培育"
    }
    assert listing == {"入库培育": 1}
    assert rows["高企认定奖励"][1].value == 20.0
    assert rows["创新券"][1].value == 7.0
    assert rows["创新券"][2].value == 2
    # fb's certificate expires in 2026; fc's ended.
    assert rows["2025年"][1].value == 0
    assert rows["2026年"][1].value == 1


def test_summary_charts_read_the_cells(targets):
    sheet = report()["汇总"]
    header = next(r for r in sheet.iter_rows() if r[0].value == "高企培育阶段")[0].row
    funnel_chart, expiry_chart = sheet._charts
    (series,) = funnel_chart.series
    assert series.val.numRef.f == f"'汇总'!$B${header + 1}:$B${header + 11}"
    assert series.cat.strRef.f == f"'汇总'!$A${header + 1}:$A${header + 11}"
    assert series.tx.strRef.f == f"'汇总'!B{header}"
    expiry = next(r for r in sheet.iter_rows() if r[0].value == "到期年度")[0].row
    (series,) = expiry_chart.series
    assert series.val.numRef.f == f"'汇总'!$B${expiry + 1}:$B${expiry + 2}"
    assert series.cat.strRef.f == f"'汇总'!$A${expiry + 1}:$A${expiry + 2}"


def test_district_sheet_with_targets_and_clustered_chart(targets):
    sheet = report()["按县区"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["分组", "高新技术企业数", "目标", "完成率"]
    rows = rows_of(sheet)
    home, away = targets["home"].name, targets["away"].name
    assert [c.value for c in rows[home][1:4]] == [1, 4, 0.25]
    assert rows[away][1].value == 1 and rows[away][2].value is None
    pool = {r.group: r for r in indicators.pool_rd_intensity(2025, by="district")}
    column = header.index("研发投入强度（%）")
    assert rows[home][column].value == round(pool[home].percent, 2) == 5.0
    assert rows[away][header.index("扶持资金兑现（万元）")].value == 2.0
    assert rows[away][header.index("2026年到期证书")].value == 1
    assert any("占位" in str(v) for v in rows)
    (chart,) = sheet._charts
    assert chart.grouping == "clustered"
    last = sheet.max_row - 1  # below the groups: the note
    groups = len([k for k in rows if k not in ("分组",) and not str(k).startswith("注")])
    assert [s.val.numRef.f for s in chart.series] == [
        f"'按县区'!$B$2:$B${groups + 1}",
        f"'按县区'!$C$2:$C${groups + 1}",
    ]
    assert chart.series[0].cat.strRef.f == f"'按县区'!$A$2:$A${groups + 1}"
    assert last >= groups + 1


def test_breakdowns_equal_the_queries(targets):
    book = report()
    sheet = book["按服务专员"]
    header = [c.value for c in sheet[1]]
    rows = rows_of(sheet)
    assert rows["经理A"][1].value == 1
    assert rows["经理A"][header.index("有效发明专利（件）")].value == 2  # fa's
    assert rows["经理B"][header.index("研发投入强度（%）")].value == 3.0
    fields = rows_of(book["按技术领域"])
    expected = {r.group: r.count for r in indicators.hte_count(YEAR_END, by="field")}
    assert {k: fields[k][1].value for k in expected} == expected


def test_conversion_sheet(targets):
    sheet = report()["转化"]
    assert [c.value for c in sheet[1]] == [
        "转化环节",
        "队列年度",
        "进入企业数",
        "转化企业数",
        "转化率",
    ]
    assert sheet.freeze_panes == "A2"
    expected = funnel.conversion("hte", "reserve", "applied")
    got = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "高企后备库→已申报"]
    assert [(r[1], r[2], r[3]) for r in got] == [
        (c.cohort, c.entered, c.converted) for c in expected
    ]


def test_print_settings_and_formats(targets):
    book = report()
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert int(sheet.page_setup.paperSize) == 9  # A4
        assert int(sheet.page_setup.fitToWidth) == 1
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.freeze_panes is not None
        assert sheet.column_dimensions["A"].width >= 20
    assert book["按县区"]["B1"].font.b


def test_a_manager_sees_his_firms_without_city_targets(targets):
    rows = rows_of(report(scope=targets["manager_b"], partial=True)["汇总"])
    assert [c.value for c in rows["高新技术企业数"][2:5]] == [1, None, None]
    assert rows["扶持资金兑现"][2].value == 2.0


def test_formula_like_names_stay_text(targets):
    targets["park"].name = HYPERLINK
    db.session.commit()
    book = report(DashboardFilters(2025, park_id=targets["park"].id))
    cell = next(r[0] for r in book["按园区"].iter_rows() if r[0].value == HYPERLINK)
    assert cell.data_type == "s"
    assert HYPERLINK in book["汇总"]["A3"].value
    assert book["汇总"]["A3"].data_type == "s"
    # The park filter is no district: the city target does not compare.
    assert rows_of(book["汇总"])["高新技术企业数"][3].value is None


def test_the_report_day_of_the_current_year_is_today(targets):
    book = report(DashboardFilters(2026))
    assert book["汇总"]["A2"].value.startswith(f"统计日：{date(2026, 6, 15)}")
    assert rows_of(book["汇总"])["有效发明专利"][2].value == 3
