"""The five government layouts built on the known world of `tests.layout_world`, opened with
openpyxl: what they list, their title and 填报 line, merged headers, 序号, the 合计 formulas,
the notes, the print settings, and the administrator's choice of columns."""

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from crm.extensions import db
from crm.reports import layouts
from crm.reports.layout_columns import LAYOUTS
from crm.reports.layout_sources import Params
from tests import factories
from tests.layout_world import FORMULA_NAME, TODAY, build_world, frozen_today


@pytest.fixture
def world(app):
    with frozen_today():
        yield build_world()


def build(key: str, user, **params):
    """Build a layout into memory and return (its sheet, what `build` said)."""
    batch = params.pop("batch", None)
    filler = params.pop("filler", "")
    buffer = BytesIO()
    built = layouts.build(
        LAYOUTS[key],
        Params(**params, batch_id=batch.id if batch else None),
        user,
        buffer,
        today=TODAY,
        filler=filler,
        batch=batch,
    )
    buffer.seek(0)
    return load_workbook(buffer).active, built


def table(sheet, first_row: int) -> list[list]:
    """Return the data rows: from `first_row` up to the 合计 row."""
    rows = []
    for row in sheet.iter_rows(min_row=first_row, values_only=True):
        if row[0] == "合计":
            break
        rows.append(list(row))
    return rows


def headers(sheet, row: int) -> list:
    return [cell.value for cell in sheet[row]]


def column_of(sheet, header: str, row: int = 3) -> int:
    """Return the 1-based column whose header (in `row`) is `header`."""
    return headers(sheet, row).index(header) + 1


def merged(sheet) -> set[str]:
    return {str(r) for r in sheet.merged_cells.ranges}


# --- 高企后备库入库企业名单 ----------------------------------------------------------------------


def test_reserve_roster_lists_the_firms_in_the_pool_in_the_year(world):
    sheet, built = build("reserve", world.admin, year=2026)
    rows = table(sheet, 5)
    names = [row[1] for row in rows]
    # In the pool some day of 2026: fa (since March), fb (until it applied in June), fg
    # (coached). Not fc (certified in 2024), fd (a prospect), fe (deleted), fh (left on the
    # year's first day), fi (a stay of no length).
    assert sorted(names) == sorted([FORMULA_NAME, "长洲精密科技有限公司", "长洲辅导科技有限公司"])
    assert built.rows == 3
    assert [row[0] for row in rows] == [1, 2, 3]
    # 万秀区 before 长洲区 (the districts' order), by name within a district.
    assert names == [FORMULA_NAME, "长洲精密科技有限公司", "长洲辅导科技有限公司"]
    by_name = {row[1]: row for row in rows}
    entered, reason, stage = (column_of(sheet, h) - 1 for h in ("入库日期", "入库理由", "培育阶段"))
    assert by_name[FORMULA_NAME][entered].date() == date(2026, 3, 1)
    assert by_name[FORMULA_NAME][reason] == "已入库科技型中小企业（非高企）"
    assert by_name["长洲精密科技有限公司"][stage] == "已申报"
    assert by_name["长洲辅导科技有限公司"][stage] == "一企一策辅导"


def test_the_roster_of_an_earlier_year_reads_the_history(world):
    sheet, _ = build("reserve", world.admin, year=2024)
    rows = table(sheet, 5)
    assert [row[1] for row in rows] == ["万秀电子科技有限公司"]
    assert rows[0][column_of(sheet, "培育阶段") - 1] == "已认定高企"
    assert headers(sheet, 3)[column_of(sheet, "2021年") - 1] == "2021年"


def test_reserve_roster_title_fill_line_header_and_print_settings(world):
    sheet, built = build("reserve", world.admin, year=2026, filler="梧州市科学技术局")
    assert built.title == "梧州市2026年高企后备库入库企业名单"
    assert built.filename == "梧州市2026年高企后备库入库企业名单.xlsx"
    assert sheet["A1"].value == built.title
    assert sheet["A2"].value == "填报单位：梧州市科学技术局"
    last = sheet.max_column
    assert last == 20  # 序号, 10 firm columns, 3 years × 3 figures
    letter = get_column_letter(last)
    date_cell = next(c for c in sheet[2] if c.value and str(c.value).startswith("填报日期"))
    assert date_cell.value == "填报日期：2026年6月15日"
    assert headers(sheet, 3)[:4] == ["序号", "企业名称", "统一社会信用代码", "所属县（市、区）"]
    year_columns = [column_of(sheet, f"{y}年") for y in (2023, 2024, 2025)]
    assert headers(sheet, 4)[year_columns[0] - 1 : year_columns[0] + 2] == [
        "营业收入（万元）",
        "高新技术产品（服务）收入（万元）",
        "研发费用（万元）",
    ]
    ranges = merged(sheet)
    assert f"A1:{letter}1" in ranges
    assert {"A3:A4", "B3:B4", "C3:C4"} <= ranges
    for start in year_columns:
        first = get_column_letter(start)
        end = get_column_letter(start + 2)
        assert f"{first}3:{end}3" in ranges
    assert sheet.print_title_rows == "$3:$4"
    assert sheet.freeze_panes == "A5"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9
    assert int(sheet.page_setup.fitToWidth) == 1
    assert int(sheet.page_setup.fitToHeight) == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.print_area == f"'高企后备库入库企业名单'!$A$1:${letter}${sheet.max_row}"
    assert sheet.column_dimensions["B"].width == 32


def test_reserve_roster_totals_are_sum_formulas_over_the_rows_and_amounts_in_wan(world):
    sheet, _ = build("reserve", world.admin, year=2026)
    total_row = 5 + 3
    assert sheet.cell(row=total_row, column=1).value == "合计"
    assert sheet.cell(row=total_row, column=2).value == '=COUNTA(B5:B7)&"家"'
    revenue_2025 = column_of(sheet, "2025年")
    letter = get_column_letter(revenue_2025)
    assert sheet.cell(row=total_row, column=revenue_2025).value == f"=SUM({letter}5:{letter}7)"
    assert sheet.cell(row=5, column=revenue_2025).value == 3000
    assert sheet.cell(row=5, column=revenue_2025).number_format == "#,##0.00"
    assert sheet.cell(row=5, column=revenue_2025 + 2).value == 160
    # Every money column is summed, and only those.
    summed = [
        cell.column
        for cell in sheet[total_row]
        if isinstance(cell.value, str) and cell.value.startswith("=SUM(")
    ]
    assert summed == list(range(column_of(sheet, "2023年"), sheet.max_column + 1))
    established = column_of(sheet, "成立日期")
    assert sheet.cell(row=5, column=established).number_format == "yyyy-mm-dd"
    assert sheet.cell(row=5, column=established).value.date() == date(2015, 5, 8)
    uscc = sheet.cell(row=5, column=3)
    assert uscc.value == world.firms["fa"].uscc and uscc.number_format == "@"


def test_reserve_roster_footnote_names_the_unit(world):
    sheet, _ = build("reserve", world.admin, year=2026)
    notes = [row[0] for row in sheet.iter_rows(min_row=9, values_only=True)]
    assert notes[0] == "注：1. 金额单位为万元。"
    assert "培育阶段为2026年6月15日所处的阶段" in notes[1]
    assert "A9:T9" in merged(sheet)


def test_a_firm_named_like_a_formula_is_read_back_as_text(world):
    sheet, _ = build("reserve", world.admin, year=2026)
    cell = sheet["B5"]
    assert cell.value == FORMULA_NAME
    assert cell.data_type == "s"


def test_a_manager_roster_holds_only_the_firms_in_reach(world):
    sheet, built = build("reserve", world.manager, year=2026)
    assert [row[1] for row in table(sheet, 5)] == [FORMULA_NAME]
    assert built.rows == 1


def test_a_district_narrows_the_roster_and_names_itself_in_the_title(world):
    sheet, built = build("reserve", world.admin, year=2026, district_id=world.away.id)
    assert [row[1] for row in table(sheet, 5)] == ["长洲精密科技有限公司", "长洲辅导科技有限公司"]
    assert built.title == "梧州市长洲区2026年高企后备库入库企业名单"


def test_an_empty_roster_says_so_and_still_totals(world):
    sheet, built = build("reserve", world.admin, year=2019)
    assert built.rows == 0
    assert sheet["A5"].value == "无符合条件的记录"
    assert sheet["A6"].value == "合计"
    assert sheet["B6"].value == '=COUNTA(B5:B5)&"家"'


# --- Templates -----------------------------------------------------------------------------------


def test_picking_columns_changes_the_sheet_and_drops_the_year_groups(world):
    layouts.save_template(LAYOUTS["reserve"], ["district", "name", "uscc"], world.admin)
    sheet, _ = build("reserve", world.admin, year=2026)
    assert headers(sheet, 3) == ["序号", "所属县（市、区）", "企业名称", "统一社会信用代码"]
    # One header row: the rows start on row 4 and no year group is merged.
    assert sheet["C4"].value == FORMULA_NAME
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.freeze_panes == "A4"
    assert sheet["A7"].value == "合计" and sheet["C7"].value == '=COUNTA(C4:C6)&"家"'
    assert not [r for r in merged(sheet) if r.endswith("3") and ":" in r and r[0] != "A"]
    notes = [row[0] for row in sheet.iter_rows(min_row=8, values_only=True)]
    assert notes[0].startswith("注：名单为2026年内")  # no money column, no unit note


def test_yearly_columns_stand_where_the_first_of_them_is_in_their_chosen_order(world):
    keys = ["name", "rd_expense", "district", "total_revenue"]
    layouts.save_template(LAYOUTS["reserve"], keys, world.admin)
    sheet, _ = build("reserve", world.admin, year=2026)
    assert headers(sheet, 3) == [
        "序号",
        "企业名称",
        "2023年",
        None,
        "2024年",
        None,
        "2025年",
        None,
        "所属县（市、区）",
    ]
    assert headers(sheet, 4)[2:4] == ["研发费用（万元）", "营业收入（万元）"]
    assert {"C3:D3", "E3:F3", "G3:H3", "I3:I4"} <= merged(sheet)


def test_restoring_the_default_forgets_the_template(world):
    layout = LAYOUTS["reserve"]
    layouts.save_template(layout, ["name"], world.admin)
    assert layouts.shown_keys(layout) == ["name"]
    layouts.restore_default(layout)
    assert layouts.template_of(layout) is None
    assert layouts.shown_keys(layout) == layout.default_keys


def test_a_template_keeps_only_the_columns_the_layout_still_has(world):
    layout = LAYOUTS["reserve"]
    template = layouts.save_template(layout, ["name", "uscc"], world.admin)
    template.columns = ["gone", "uscc", "name", "uscc"]
    db.session.flush()
    assert layouts.shown_keys(layout) == ["uscc", "name"]
    template.columns = ["gone"]
    db.session.flush()
    assert layouts.shown_keys(layout) == layout.default_keys


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["name", "nonsense"], "没有这一列：nonsense"),
        (["name", "name"], "同一列不能选择两次"),
        ([], "请至少选择一列"),
    ],
)
def test_a_bad_choice_of_columns_is_refused(world, keys, message):
    with pytest.raises(layouts.TemplateError, match=message):
        layouts.save_template(LAYOUTS["reserve"], keys, world.admin)
    assert layouts.template_of(LAYOUTS["reserve"]) is None


# --- 高新技术企业认定推荐汇总表 ------------------------------------------------------------------


def test_recommendation_summary_of_a_batch(world):
    sheet, built = build("recommendation", world.admin, batch=world.batch)
    assert built.title == "梧州市2026年第一批高新技术企业认定推荐汇总表"
    rows = table(sheet, 5)
    # fg withdrew: not recommended. fc re-applies for its expiring certificate.
    assert [row[1] for row in rows] == [
        FORMULA_NAME,
        "万秀电子科技有限公司",
        "长洲精密科技有限公司",
    ]
    fa, fc, fb = rows
    at = {h: column_of(sheet, h) - 1 for h in ("申报类型", "预评估得分", "预评估结论")}
    assert (fa[at["申报类型"]], fa[at["预评估得分"]], fa[at["预评估结论"]]) == (
        "首次认定",
        "71–85",
        "预计通过",
    )
    assert (fb[at["申报类型"]], fb[at["预评估得分"]], fb[at["预评估结论"]]) == (
        "重新认定",
        "78",
        "有待确认",
    )
    # Submitted without a stored assessment: nothing to show.
    assert (fc[at["申报类型"]], fc[at["预评估得分"]], fc[at["预评估结论"]]) == (
        "重新认定",
        None,
        None,
    )
    # The three years before the batch's year, grouped.
    assert [column_of(sheet, f"{y}年") for y in (2023, 2024, 2025)]
    assert headers(sheet, 4)[column_of(sheet, "2025年") - 1 :][:2] == [
        "销售收入（万元）",
        "研发费用（万元）",
    ]
    ratio = column_of(sheet, "近三年研发费用占销售收入比例")
    assert sheet.cell(row=5, column=ratio).value == pytest.approx(4_800_000 / 87_000_000)
    assert sheet.cell(row=5, column=ratio).number_format == "0.00%"
    assert sheet.cell(row=5, column=column_of(sheet, "高新技术产品（服务）收入占比")).value == (
        pytest.approx(20 / 30)
    )
    # IP held before the application: fa's invention only (the utility model came after, the
    # software is licensed, the design expired); fb's two Class II items.
    first, second = column_of(sheet, "Ⅰ类知识产权（件）"), column_of(sheet, "Ⅱ类知识产权（件）")
    assert (fa[first - 1], fa[second - 1], fb[first - 1], fb[second - 1]) == (1, 0, 0, 2)
    letter = get_column_letter(second)
    assert sheet.cell(row=8, column=second).value == f"=SUM({letter}5:{letter}7)"
    assert sheet.cell(row=8, column=ratio).value is None  # a ratio is never summed
    assert sheet.print_title_rows == "$3:$4"


# --- 高新技术企业重新认定名单 --------------------------------------------------------------------


def test_recertification_list_of_an_expiry_year(world):
    layouts.save_template(
        LAYOUTS["recertification"],
        [*LAYOUTS["recertification"].default_keys, "certificate_status", "days_left"],
        world.admin,
    )
    sheet, built = build("recertification", world.admin, year=2026)
    assert built.title == "梧州市2026年高新技术企业重新认定名单"
    rows = table(sheet, 5)
    # fc's valid certificate and fg's lapsed one expire in 2026; fh's was cancelled, fb's
    # expires in 2027.
    assert [row[1] for row in rows] == ["万秀电子科技有限公司", "长洲辅导科技有限公司"]
    at = {
        h: column_of(sheet, h) - 1
        for h in (
            "证书编号",
            "发证日期",
            "有效期至",
            "是否重新申报",
            "申报批次",
            "申报结果",
            "证书状态",
            "距到期天数",
        )
    }
    fc, fg = rows
    assert fc[at["证书编号"]] == "GR202345000003"
    assert fc[at["发证日期"]].date() == date(2023, 11, 20)
    assert fc[at["有效期至"]].date() == date(2026, 11, 19)
    assert (fc[at["是否重新申报"]], fc[at["申报批次"]], fc[at["申报结果"]]) == (
        "是",
        "2026 年第一批",
        "已申报",
    )
    assert fc[at["距到期天数"]] == (date(2026, 11, 19) - TODAY).days
    # fg applied in the year's batch and withdrew: it did re-apply, and the result says how.
    assert (fg[at["是否重新申报"]], fg[at["申报结果"]]) == ("是", "已撤回")
    assert (fc[at["证书状态"]], fg[at["证书状态"]]) == ("有效", "已到期")
    sales_2025 = column_of(sheet, "2025年")
    letter = get_column_letter(sales_2025)
    assert sheet.cell(row=7, column=sales_2025).value == f"=SUM({letter}5:{letter}6)"
    assert sheet.cell(row=7, column=at["距到期天数"] + 1).value is None


# --- 上市后备企业名单 ----------------------------------------------------------------------------


def test_listing_roster_of_a_year(world):
    layouts.save_template(
        LAYOUTS["listing"], [*LAYOUTS["listing"].default_keys, "document"], world.admin
    )
    sheet, built = build("listing", world.admin, year=2026)
    assert built.title == "梧州市2026年上市后备企业名单"
    rows = table(sheet, 5)
    # fb withdrew in 2024.
    assert [row[1] for row in rows] == [FORMULA_NAME]
    at = {
        h: column_of(sheet, h) - 1
        for h in ("所处阶段", "进入阶段日期", "阶段文号", "拟上市板块", "保荐券商", "入库日期")
    }
    fa = rows[0]
    assert fa[at["所处阶段"]] == "股份制改造"
    assert fa[at["进入阶段日期"]].date() == date(2026, 3, 1)
    assert fa[at["阶段文号"]] == "梧金发〔2026〕3号"
    assert (fa[at["拟上市板块"]], fa[at["保荐券商"]]) == ("科创板", "华泰联合证券")
    assert fa[at["入库日期"]].date() == date(2025, 4, 1)
    # In 2024 only fb was in the programme, until it withdrew: the stage at the year's end.
    earlier, _ = build("listing", world.admin, year=2024)
    assert [row[1] for row in table(earlier, 5)] == ["长洲精密科技有限公司"]
    assert table(earlier, 5)[0][at["所处阶段"]] == "撤回/终止"


# --- 扶持资金汇总表 ------------------------------------------------------------------------------


def test_support_summary_sums_by_firm_and_kind_in_wan(world):
    sheet, built = build("support", world.admin, year=2026)
    assert built.title == "梧州市2026年扶持资金汇总表"
    assert sheet.print_title_rows == "$3:$3"  # no year groups: one header row
    rows = table(sheet, 4)
    assert [row[1] for row in rows] == [FORMULA_NAME, "长洲精密科技有限公司"]
    at = {
        h: column_of(sheet, h) - 1
        for h in (
            "高企认定奖励（万元）",
            "研发经费投入后补助（万元）",
            "创新券（万元）",
            "合计（万元）",
            "其中已拨付（万元）",
            "笔数",
        )
    }
    fa, fb = rows
    assert [fa[at[h]] for h in at] == [20, 5, None, 25, 20, 2]
    assert [fb[at[h]] for h in at] == [None, None, 1, 1, 0, 1]
    for header, index in at.items():
        letter = get_column_letter(index + 1)
        assert sheet.cell(row=6, column=index + 1).value == f"=SUM({letter}4:{letter}5)", header
    notes = [row[0] for row in sheet.iter_rows(min_row=7, values_only=True)]
    assert notes[0] == "注：1. 金额单位为万元。"


def test_support_summary_of_one_status(world):
    sheet, _ = build("support", world.admin, year=2026, status="paid")
    rows = table(sheet, 4)
    assert [row[1] for row in rows] == [FORMULA_NAME]
    assert rows[0][column_of(sheet, "合计（万元）") - 1] == 20
    assert "仅状态为「已拨付」的" in sheet.cell(row=7, column=1).value


def test_every_layout_builds_for_a_user_who_reaches_nothing(world):
    stranger = factories.make_user("manager", districts=[])
    for key, layout in LAYOUTS.items():
        sheet, built = build(
            key, stranger, year=2026, batch=world.batch if key == "recommendation" else None
        )
        assert built.rows == 0, key
        assert layout.name in sheet["A1"].value
