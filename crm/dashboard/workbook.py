"""The funnel report workbook: the dashboard's indicators of a year against their targets.

One 汇总 sheet (the city's figures within the filters, the targets, the firms per stage, support
per kind and the certificates expiring), one sheet per breakdown (县区, 园区, 技术领域, 服务专员)
and a 转化 sheet of cohort conversions, with native charts that read the cells. Every figure comes
from the same queries as the dashboard (`funnel`, `indicators`), so the workbook and the page
agree. The workbook is small (a row per group or stage), so it is built in normal mode.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from crm.accounts.models import User
from crm.core import clock
from crm.dashboard import funnel, indicators
from crm.dashboard.filters import DashboardFilters
from crm.dashboard.funnel import Scope
from crm.dashboard.targets import HTE_COUNT, INDICATORS, targets_of
from crm.extensions import db
from crm.pipeline.rules import HTE, LISTING, PROGRAMMES
from crm.reference.models import District, Park, TechField
from crm.spreadsheets.writer import set_value

MONEY = "#,##0.00"
PERCENT = "0.0%"
DECIMAL = "0.00"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
PLACEHOLDER = "（占位）"
#: The breakdown sheets, in order.
BREAKDOWN_SHEETS = {
    "district": "按县区",
    "park": "按园区",
    "field": "按技术领域",
    "manager": "按服务专员",
}
#: The conversions of the 转化 sheet: high-tech stages from and to.
CONVERSIONS = (("reserve", "applied"), ("applied", "certified"), ("reserve", "certified"))
FILTER_LABELS = {
    "district_id": ("县（市、区）", District),
    "park_id": ("园区", Park),
    "tech_field_id": ("技术领域", TechField),
    "manager_id": ("服务专员", User),
}
TEN_THOUSAND = Decimal(10000)


@dataclass(frozen=True)
class ReportContext:
    """What a report is built for: the filters, the firms in reach and the days it reads."""

    filters: DashboardFilters
    scope: Scope
    city: str
    today: date
    #: The scope is a part of the city (a manager's firms): city targets are not comparable.
    partial: bool = False

    @property
    def day(self) -> date:
        """Return the day the stock figures are read on: 31 December, or today in its year."""
        return min(date(self.filters.year, 12, 31), self.today)

    @property
    def expiry_years(self) -> list[int]:
        """Return the years whose expiring certificates the report counts."""
        return [self.filters.year, self.filters.year + 1]


def filename(city: str, year: int) -> str:
    """Return the download name of the report."""
    return f"{city}科技企业培育漏斗报告_{year}.xlsx"


def build_report(context: ReportContext) -> bytes:
    """Build the funnel report workbook and return it as .xlsx bytes."""
    book = Workbook()
    summary_sheet(book.active, context)
    for by, title in BREAKDOWN_SHEETS.items():
        breakdown_sheet(book.create_sheet(title), context, by)
    conversion_sheet(book.create_sheet("转化"), context)
    for sheet in book.worksheets:
        _page_setup(sheet)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- 汇总 ---------------------------------------------------------------------------------------


def summary_sheet(sheet, context: ReportContext) -> None:
    """Fill the 汇总 sheet: title, filters, indicators against targets, stages, support, expiry."""
    sheet.title = "汇总"
    year, scope = context.filters.year, context.scope
    _text(sheet, 1, 1, f"{context.city}科技企业培育漏斗报告（{year}年）", TITLE)
    made = clock.to_local(clock.utcnow())
    _text(sheet, 2, 1, f"统计日：{context.day:%Y-%m-%d}；生成时间：{made:%Y-%m-%d %H:%M}")
    _text(sheet, 3, 1, "筛选条件：" + "；".join(filter_lines(context.filters)))
    row = 5
    _header(sheet, row, ["指标", "单位", "实际", "目标", "完成率", "说明"])
    hte = indicators.hte_count(context.day, scope=scope)[0].count
    pool = indicators.pool_rd_intensity(year, scope=scope)[0]
    patents = indicators.invention_patents(context.day, scope=scope)[0].count
    paid = indicators.support_paid(year, scope=scope)[0]
    figures = [
        (HTE_COUNT, hte, None, f"截至 {context.day:%Y-%m-%d} 持有效高企证书的企业"),
        (
            "rd_intensity",
            None if pool.percent is None else round(pool.percent, 2),
            DECIMAL,
            f"后备库 {pool.firms} 家，其中 {pool.firms_with_figures} 家有 {year} 年数据",
        ),
        ("invention_patents", patents, None, f"截至 {context.day:%Y-%m-%d}"),
        ("support_paid", paid.amount / TEN_THOUSAND, MONEY, f"{year} 年拨付 {paid.entries} 笔"),
    ]
    for key, actual, number_format, note in figures:
        row += 1
        indicator = INDICATORS[key]
        target, placeholder = _target(context, key)
        _text(sheet, row, 1, indicator.name)
        _text(sheet, row, 2, indicator.unit)
        _number(sheet, row, 3, actual, number_format)
        _number(sheet, row, 4, target, number_format)
        _number(sheet, row, 5, _rate(actual, target), PERCENT)
        _text(sheet, row, 6, f"{note}{'；目标' + PLACEHOLDER if placeholder else ''}")

    row += 2
    stage_top = row
    for column, programme in ((1, HTE), (4, LISTING)):
        rows = funnel.firms_per_stage(programme, scope=scope)
        _header(sheet, row, [f"{PROGRAMMES[programme].name}阶段", "企业数（现）"], column)
        for n, stage in enumerate(rows, start=1):
            _text(sheet, row + n, column, stage.stage_name)
            _number(sheet, row + n, column + 1, stage.firms)
    hte_stages = len(PROGRAMMES[HTE].stages)
    _bar_chart(
        sheet,
        "高企培育漏斗（现有企业数）",
        data=(2, stage_top, stage_top + hte_stages),
        categories=(1, stage_top + 1, stage_top + hte_stages),
        anchor="H5",
    )
    row = stage_top + max(hte_stages, len(PROGRAMMES[LISTING].stages)) + 2

    _header(sheet, row, ["扶持类型", f"{year} 年拨付（万元）", "笔数"])
    for kind in indicators.support_paid(year, scope=scope, by_kind=True):
        row += 1
        _text(sheet, row, 1, kind.kind_name)
        _number(sheet, row, 2, kind.amount / TEN_THOUSAND, MONEY)
        _number(sheet, row, 3, kind.entries)
    row += 2

    expiry_top = row
    _header(sheet, row, ["到期年度", "到期高企证书（张）"])
    for item in funnel.certificates_expiring(context.expiry_years, scope=scope):
        row += 1
        _text(sheet, row, 1, f"{item.year}年")
        _number(sheet, row, 2, item.certificates)
    _bar_chart(
        sheet,
        "高企证书到期数（按年度）",
        data=(2, expiry_top, row),
        categories=(1, expiry_top + 1, row),
        anchor="H22",
    )
    sheet.freeze_panes = "A6"
    _widths(sheet, [30, 12, 14, 14, 12, 44])


def filter_lines(filters: DashboardFilters) -> list[str]:
    """Return the filters applied, in Chinese: the year and each group filter set (or 全部)."""
    lines = [f"年度：{filters.year}"]
    for name, (label, model) in FILTER_LABELS.items():
        value = getattr(filters, name)
        if value is None:
            lines.append(f"{label}：全部")
            continue
        shown = db.session.scalar(select(model.name).where(model.id == value))
        lines.append(f"{label}：{shown or '（已不存在）'}")
    return lines


# --- Breakdowns ----------------------------------------------------------------------------------


def breakdown_sheet(sheet, context: ReportContext, by: str) -> None:
    """Fill a breakdown sheet: the indicators per group, HTE targets on the district sheet."""
    year, scope, day = context.filters.year, context.scope, context.day
    columns = {
        "hte": {r.group_id: r.count for r in indicators.hte_count(day, by, scope)},
        "pool": {r.group_id: r for r in indicators.pool_rd_intensity(year, by, scope)},
        "patents": {r.group_id: r.count for r in indicators.invention_patents(day, by, scope)},
        "paid": {r.group_id: r.amount for r in indicators.support_paid(year, by, scope)},
    }
    expiring = {}
    for item in funnel.certificates_expiring(context.expiry_years, by, scope):
        expiring[(item.group_id, item.year)] = item.certificates
    with_targets = by == "district"
    targets = _district_targets(context) if with_targets else {}
    present = set().union(*columns.values(), (g for g, _ in expiring), targets)
    groups = _ordered_groups(by, present, all_districts=with_targets and not context.partial)

    headers = ["分组", "高新技术企业数"]
    if with_targets:
        headers += ["目标", "完成率"]
    headers += ["后备库企业数", "有数据企业数", "研发投入强度（%）", "有效发明专利（件）"]
    headers += ["扶持资金兑现（万元）"] + [f"{y}年到期证书" for y in context.expiry_years]
    _header(sheet, 1, headers)
    for row, (group_id, name) in enumerate(groups, start=2):
        pool = columns["pool"].get(group_id)
        hte = columns["hte"].get(group_id, 0)
        values = [(hte, None)]
        if with_targets:
            target = targets.get(group_id, (None, False))[0]
            values += [(target, None), (_rate(hte, target), PERCENT)]
        percent = pool.percent if pool else None
        values += [
            (pool.firms if pool else 0, None),
            (pool.firms_with_figures if pool else 0, None),
            (None if percent is None else round(percent, 2), DECIMAL),
            (columns["patents"].get(group_id, 0), None),
            (columns["paid"].get(group_id, Decimal(0)) / TEN_THOUSAND, MONEY),
        ]
        values += [(expiring.get((group_id, y), 0), None) for y in context.expiry_years]
        _text(sheet, row, 1, name)
        for column, (value, number_format) in enumerate(values, start=2):
            _number(sheet, row, column, value, number_format)
    if with_targets and groups:
        if any(placeholder for _, placeholder in targets.values()):
            _text(sheet, len(groups) + 3, 1, f"注：目标含占位值{PLACEHOLDER}，以局定目标为准。")
        _bar_chart(
            sheet,
            "高新技术企业数与目标（按县区）",
            data=(2, 1, len(groups) + 1, 3),
            categories=(1, 2, len(groups) + 1),
            anchor=f"A{len(groups) + 5}",
        )
    sheet.freeze_panes = "B2"
    _widths(sheet, [28] + [14] * (len(headers) - 1))


def _district_targets(context: ReportContext) -> dict[int, tuple[Decimal, bool]]:
    if context.partial:
        return {}
    return {
        target.district_id: (target.value, target.placeholder)
        for target in targets_of(context.filters.year, HTE_COUNT)
        if target.district_id is not None
        and context.filters.district_id in (None, target.district_id)
    }


def _ordered_groups(by: str, present: set, all_districts: bool) -> list[tuple[int | None, str]]:
    """Return the groups with any figure (every district on the district sheet), in order."""
    model, order = {
        "district": (District, (District.sort_order, District.name)),
        "park": (Park, (Park.name,)),
        "field": (TechField, (TechField.sort_order, TechField.name)),
        "manager": (User, (User.name,)),
    }[by]
    stmt = select(model.id, model.name).order_by(*order, model.id)
    if not all_districts:
        stmt = stmt.where(model.id.in_([g for g in present if g is not None]))
    groups = [(group_id, name) for group_id, name in db.session.execute(stmt)]
    if None in present:
        groups.append((None, funnel.BREAKDOWNS[by]))
    return groups


# --- 转化 ---------------------------------------------------------------------------------------


def conversion_sheet(sheet, context: ReportContext) -> None:
    """Fill the 转化 sheet: cohort conversions of the high-tech programme."""
    _header(sheet, 1, ["转化环节", "队列年度", "进入企业数", "转化企业数", "转化率"])
    row = 1
    for from_stage, to_stage in CONVERSIONS:
        spec = PROGRAMMES[HTE]
        label = f"{spec.stage(from_stage).name}→{spec.stage(to_stage).name}"
        for cohort in funnel.conversion(HTE, from_stage, to_stage, scope=context.scope):
            row += 1
            _text(sheet, row, 1, label)
            _number(sheet, row, 2, cohort.cohort)
            _number(sheet, row, 3, cohort.entered)
            _number(sheet, row, 4, cohort.converted)
            _number(sheet, row, 5, cohort.rate, PERCENT)
    _text(sheet, row + 2, 1, "队列年度：企业首次进入起始阶段的年度；转化：此后进入目标阶段。")
    sheet.freeze_panes = "A2"
    _widths(sheet, [30, 12, 14, 14, 12])


# --- Cells, charts, print ------------------------------------------------------------------------


def _text(sheet, row: int, column: int, value: str, font: Font | None = None) -> None:
    cell = sheet.cell(row=row, column=column)
    set_value(cell, value)
    if font is not None:
        cell.font = font


def _number(sheet, row: int, column: int, value, number_format: str | None = None) -> None:
    cell = sheet.cell(row=row, column=column)
    set_value(cell, float(value) if isinstance(value, Decimal) else value)
    if number_format is not None:
        cell.number_format = number_format


def _header(sheet, row: int, titles: list[str], column: int = 1) -> None:
    for offset, title in enumerate(titles):
        _text(sheet, row, column + offset, title, BOLD)
        sheet.cell(row=row, column=column + offset).alignment = Alignment(horizontal="center")


def _widths(sheet, widths: list[int]) -> None:
    for n, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width


def _bar_chart(sheet, title: str, data: tuple, categories: tuple, anchor: str) -> None:
    """Add a bar chart of `data` (column, header row, last row[, last column]) by `categories`."""
    column, top, bottom, *last = data
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = title
    chart.height, chart.width = 7.5, 16
    values = Reference(
        sheet, min_col=column, max_col=last[0] if last else column, min_row=top, max_row=bottom
    )
    chart.add_data(values, titles_from_data=True)
    cat_column, cat_top, cat_bottom = categories
    labels = Reference(sheet, min_col=cat_column, min_row=cat_top, max_row=cat_bottom)
    for series in chart.series:
        # The categories are text: a string reference, which openpyxl does not make by itself.
        series.cat = AxDataSource(strRef=StrRef(f=str(labels)))
    sheet.add_chart(chart, anchor)


def _page_setup(sheet) -> None:
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _target(context: ReportContext, key: str) -> tuple[Decimal | None, bool]:
    """Return the target comparable with the report's figures, and whether it is a placeholder.

    The city's target, or the district's when the report is narrowed to a district; none when
    the firms are only part of that (another group filter, or a manager's own firms).
    """
    filters = context.filters
    if context.partial or any(
        getattr(filters, name) is not None for name in ("park_id", "tech_field_id", "manager_id")
    ):
        return None, False
    for target in targets_of(filters.year, key):
        if target.district_id == filters.district_id:
            return target.value, target.placeholder
    return None, False


def _rate(actual, target) -> float | None:
    if actual is None or not target:
        return None
    return float(Decimal(str(actual)) / Decimal(target))
