"""The dashboard's figures for a user and the filters, each linked to the list behind it.

The numbers come from the funnel queries (`funnel`) and the indicators (`indicators`) over the
user's reach narrowed by the filters (`DashboardFilters.scope`): the queries the funnel report
workbook reads, with its targets (`targets`) compared the same way, so the page and the download
agree. Every number links to the page that lists what it counts (`links`).
"""

from datetime import date

from crm.accounts.models import User
from crm.core.filters import WAN
from crm.core.permissions import sees_all_firms
from crm.dashboard import funnel, indicators, queries
from crm.dashboard.charts import Card, Dashboard, Figure, Series
from crm.dashboard.filters import DashboardFilters
from crm.dashboard.links import Links
from crm.dashboard.models import Target
from crm.dashboard.targets import HTE_COUNT, INDICATORS, targets_of
from crm.pipeline.rules import HTE, LISTING, PROGRAMMES

#: The listing-reserve stages of firms still on the road (not listed, not withdrawn).
LISTING_RESERVE_STAGES = tuple(
    stage.code
    for stage in PROGRAMMES[LISTING].stages
    if stage.kind != "exit" and not stage.is_terminal
)
#: The cohort years the conversion figure shows, up to the chosen year.
COHORT_YEARS = 6


def indicator_day(year: int, today: date) -> date:
    """Return the day a count "in `year`" is taken: the year's last day, or today if sooner."""
    return min(date(year, 12, 31), today)


def build(user: User, filters: DashboardFilters, today: date) -> Dashboard:
    """Return the cards and figures of the dashboard for `user` and `filters` on `today`."""
    scope = filters.scope(user)
    links = Links(filters)
    targets = Targets(user, filters)
    districts = queries.district_names()
    day = indicator_day(filters.year, today)
    hte = funnel.firms_per_stage(HTE, scope=scope)
    listing = funnel.firms_per_stage(LISTING, scope=scope)
    by_district = indicators.hte_count(day, by="district", scope=scope)
    paid = indicators.support_paid(filters.year, scope=scope, by_kind=True)
    cards = [
        targets.card(
            HTE_COUNT,
            sum(row.count for row in by_district),
            href=links.firms(tier="hte"),
            note=f"截至 {day:%Y-%m-%d} 持有效高企证书的企业",
        ),
        targets.card(
            "reserve_count",
            sum(row.firms for row in hte if row.stage in indicators.POOL_STAGES),
            href=links.board(HTE),
            note="高企后备库和一企一策辅导中的企业",
        ),
        targets.card(
            "listing_reserve_count",
            sum(row.firms for row in listing if row.stage in LISTING_RESERVE_STAGES),
            href=links.board(LISTING),
            note="尚未上市、未撤回的上市后备企业",
        ),
        rd_card(filters.year, scope, targets, links),
        targets.card(
            "invention_patents",
            indicators.invention_patents(day, scope=scope)[0].count,
            note=f"截至 {day:%Y-%m-%d} 有效的已授权发明专利",
        ),
        targets.card(
            "support_paid",
            sum(row.amount for row in paid) / WAN,
            style="wan",
            href=links.ledger(year=filters.year, status="paid"),
            note=f"{filters.year} 年拨付 {sum(row.entries for row in paid)} 笔",
        ),
    ]
    figures = [
        stage_figure("funnel_hte", HTE, hte, links),
        stage_figure("funnel_listing", LISTING, listing, links),
        hte_figure(by_district, day, filters, targets, links, districts),
        conversion_figure(filters.year, scope, links),
        median_figure(scope, today, links),
        expiring_figure(filters.year, scope, links, districts),
        support_figure(filters.year, paid, links),
    ]
    return Dashboard(cards, figures)


class Targets:
    """The targets of the year that the figures shown can be compared with.

    As in the funnel report: the whole city (a user who sees every firm, no group filter)
    compares with the city's target, a district filter with the district's; a manager's own
    firms, a park, a field or a manager are only part of those and have none.
    """

    def __init__(self, user: User, filters: DashboardFilters):
        self.by_key: dict[tuple[str, int | None], Target] = {
            (target.indicator, target.district_id): target for target in targets_of(filters.year)
        }
        self.comparable = sees_all_firms(user) and not any(
            (filters.park_id, filters.tech_field_id, filters.manager_id)
        )
        self.district_id = filters.district_id

    def get(self, indicator: str, district_id: int | None) -> Target | None:
        """Return the target of `indicator` for a district (None: the city), if comparable."""
        return self.by_key.get((indicator, district_id)) if self.comparable else None

    def card(self, indicator: str, value, style: str = "count", **kwargs) -> Card:
        """Return the headline card of `indicator` with its target, if there is one."""
        spec = INDICATORS[indicator]
        target = self.get(indicator, self.district_id)
        return Card(
            indicator,
            spec.name,
            value,
            spec.unit,
            style,
            target=target.value if target else None,
            placeholder=bool(target and target.placeholder),
            **kwargs,
        )


def rd_card(year: int, scope, targets: Targets, links: Links) -> Card:
    """Return the R&D intensity of the reserve pool over the figures of `year`."""
    pool = indicators.pool_rd_intensity(year, scope=scope)[0]
    return targets.card(
        "rd_intensity",
        pool.percent,
        style="percent",
        href=links.board(HTE),
        note=f"后备库 {pool.firms} 家，其中 {pool.firms_with_figures} 家有 {year} 年数据",
    )


def stage_figure(key: str, programme: str, rows: list[funnel.StageCount], links: Links) -> Figure:
    """Return the firms in each stage of a programme now, each linked to its board column."""
    spec = PROGRAMMES[programme]
    return Figure(
        key=key,
        title=f"{spec.name}：各阶段企业数",
        axis="阶段",
        categories=[row.stage_name for row in rows],
        series=[
            Series(
                "企业数",
                [row.firms for row in rows],
                [links.column(programme, row.stage) for row in rows],
            )
        ],
        unit="家",
        horizontal=True,
        note="每家企业按其当前（或最后）所处阶段计一次。",
    )


def conversion_figure(year: int, scope, links: Links) -> Figure:
    """Return, per cohort year (first entry to the reserve pool), how many applied and how many
    were certified, as rates; each year linked to the board of that year's intake."""
    applied = {row.cohort: row for row in funnel.conversion(HTE, "reserve", "applied", scope=scope)}
    certified = {
        row.cohort: row for row in funnel.conversion(HTE, "reserve", "certified", scope=scope)
    }
    cohorts = sorted(
        cohort
        for cohort in applied.keys() | certified.keys()
        if year - COHORT_YEARS < cohort <= year
    )
    entered = [(applied.get(c) or certified[c]).entered for c in cohorts]
    reached_applied = [applied[c].converted if c in applied else 0 for c in cohorts]
    reached_certified = [certified[c].converted if c in certified else 0 for c in cohorts]
    board = [links.board(HTE, year=c) for c in cohorts]
    return Figure(
        key="conversion",
        title="各入库年度转化率",
        axis="入库年度",
        categories=[f"{c} 年" for c in cohorts],
        series=[
            Series("入库企业数", entered, board, kind="table"),
            Series("已申报", reached_applied, board, kind="table"),
            Series(
                "申报率",
                [a / e if e else None for a, e in zip(reached_applied, entered, strict=True)],
                board,
                kind="line",
                style="rate",
            ),
            Series("已认定", reached_certified, board, kind="table"),
            Series(
                "认定率",
                [c / e if e else None for c, e in zip(reached_certified, entered, strict=True)],
                board,
                kind="line",
                style="rate",
            ),
        ],
        unit="%",
        note="按首次进入高企后备库的年度分组：其中后来申报、获得认定的比例。",
    )


def median_figure(scope, today: date, links: Links) -> Figure:
    """Return the median days in each stage of the high-tech programme, linked to its column."""
    rows = funnel.median_days_in_stage(HTE, scope=scope, today=today)
    return Figure(
        key="median_days",
        title="各阶段停留天数（中位数）",
        axis="阶段",
        categories=[row.stage_name for row in rows],
        series=[
            Series(
                "天数中位数",
                [row.median_days for row in rows],
                [links.column(HTE, row.stage) for row in rows],
                style="days",
            ),
            Series("停留次数", [row.stays for row in rows], kind="table"),
        ],
        unit="天",
        note="已结束的停留，以及仍在进行的停留（计至今日）。",
    )


def expiring_figure(year: int, scope, links: Links, districts: list[tuple[int, str]]) -> Figure:
    """Return the valid certificates expiring in `year` and the next, by district (in the
    reference data's order, firms without one last), each linked to that year's cohort."""
    years = [year, year + 1]
    rows = funnel.certificates_expiring(years, by="district", scope=scope)
    found: dict[int | None, str] = {}
    counts: dict[tuple[int | None, int], int] = {}
    for row in rows:
        found.setdefault(row.group_id, row.group)
        counts[(row.group_id, row.year)] = row.certificates
    order = {district_id: n for n, (district_id, _) in enumerate(districts)}
    groups = {
        group: found[group]
        for group in sorted(found, key=lambda g: order.get(g, len(order)) if g else len(order) + 1)
    }
    series = [
        Series(
            f"{y} 年到期",
            [counts.get((group, y), 0) for group in groups],
            [links.cohort(y, group) if group is not None else None for group in groups],
        )
        for y in years
    ]
    totals = [sum(counts.get((group, y), 0) for group in groups) for y in years]
    return Figure(
        key="expiring",
        title=f"高企证书到期（{year} 年、{year + 1} 年）",
        axis="县（市、区）",
        categories=list(groups.values()),
        series=series,
        unit="张",
        note="有效证书中到期日落在该年度的；已换发、已失效、已取消的不计。",
        footer=[f"合计：{y} 年 {n} 张" for y, n in zip(years, totals, strict=True)],
    )


def hte_figure(
    rows: list[indicators.GroupCount],
    day: date,
    filters: DashboardFilters,
    targets: Targets,
    links: Links,
    districts: list[tuple[int, str]],
) -> Figure:
    """Return the high-tech enterprises on `day` by district against each district's target,
    each linked to the firm list of the district's holders.

    Every district shows when the whole city does (with its target, even at 0 firms); within a
    manager's reach or another filter, the districts that have such firms.
    """
    counts = {row.group_id: row for row in rows}
    shown = [d for d, _ in districts if d in counts or targets.comparable]
    if filters.district_id is not None:
        shown = [d for d in shown if d == filters.district_id]
    if None in counts:
        shown.append(None)
    names = dict(districts)
    values = [counts[d].count if d in counts else 0 for d in shown]
    goals = [targets.get(HTE_COUNT, d) if d is not None else None for d in shown]
    goal_values = [goal.value if goal else None for goal in goals]
    series = [
        Series(
            "高企数",
            values,
            [links.firms(tier="hte", district=d) if d is not None else None for d in shown],
        )
    ]
    if any(goal is not None for goal in goals):
        series += [
            Series("目标", goal_values, kind="target"),
            Series(
                "完成率",
                [v / g if g else None for v, g in zip(values, goal_values, strict=True)],
                kind="table",
                style="rate",
            ),
        ]
    note = f"截至 {day:%Y-%m-%d} 持有效证书的企业。"
    if len(series) > 1:
        placeholders = any(goal is not None and goal.placeholder for goal in goals)
        note += f"红色短线为 {filters.year} 年目标" + (
            "（含倍增计划占位值）。" if placeholders else "。"
        )
    return Figure(
        key="hte_by_district",
        title="高新技术企业数与目标（按县区）",
        axis="县（市、区）",
        categories=[names.get(d) or counts[d].group for d in shown],
        series=series,
        unit="家",
        note=note,
    )


def support_figure(year: int, rows: list[indicators.SupportPaid], links: Links) -> Figure:
    """Return the support paid in `year` per kind (万元), each linked to the ledger's paid entries
    of that kind."""
    return Figure(
        key="support_by_kind",
        title=f"{year} 年扶持资金拨付（按类型）",
        axis="扶持类型",
        categories=[row.kind_name for row in rows],
        series=[
            Series(
                "金额（万元）",
                [row.amount / WAN for row in rows],
                [links.ledger(kind=row.kind, status="paid", year=year) for row in rows],
                style="wan",
            ),
            Series("笔数", [row.entries for row in rows], kind="table"),
        ],
        unit="万元",
        note="拨付日期在该年度的已拨付款项；台账按登记年度筛选，可能与此略有出入。",
    )
