"""Where a sheet tells the year of its yearless columns."""

from crm.excel.years import SheetYear, not_imported, sheet_year, years_in


def test_a_year_is_found_but_a_date_is_not():
    assert years_in("2024年度万秀区高企后备库企业名单") == {2024}
    assert years_in("填报日期：2025年3月1日") == set()
    assert years_in("截至 2025-03-01") == set()
    assert years_in("统计时间：2025.3") == set()
    assert years_in("2023—2024年数据") == {2023, 2024}
    assert years_in("编号 120245") == set()


def test_the_places_are_asked_in_order_and_one_naming_two_years_says_nothing():
    labels = ["企业名称", "2024年度主要经济指标 / 营业收入（万元）", "职工总数"]
    titles = ["2025年度万秀区名单", "填报日期：2026年1月5日"]
    assert sheet_year(labels, titles, "2022年", "2021.xlsx") == SheetYear(
        2024, "表头「2024年度主要经济指标」"
    )
    two_groups = ["2023年 / 营业收入", "2024年 / 营业收入", "职工总数"]
    assert sheet_year(two_groups, titles, "名单", "x.xlsx") == SheetYear(
        2025, "标题行「2025年度万秀区名单」"
    )
    assert sheet_year(["职工总数"], ["2023—2024年名单"], "名单", "2021年.xlsx").source == (
        "文件名「2021年」"
    )
    assert sheet_year(["职工总数"], ["万秀区名单"], "Sheet1", "名单.xlsx") is None


def test_the_columns_left_out_are_named_with_the_reason():
    columns = [
        {"letter": "B", "label": "企业名称", "key": "name"},
        {"letter": "C", "label": "职工总数", "key": "total_staff", "needs_year": True},
        {"letter": "D", "label": "联系人", "key": ""},
        {"letter": "E", "label": "", "key": ""},
    ]
    assert not_imported(columns) == [
        "C「职工总数」：未注明年度，已校验但未导入",
        "D「联系人」、E「（无列名）」：未对应任何字段，不导入",
    ]
