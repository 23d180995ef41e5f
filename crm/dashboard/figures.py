"""The dashboard's figures for a user and the filters, each linked to the list behind it.

The numbers come from the funnel queries (`funnel`) over the user's reach narrowed by the
filters (`DashboardFilters.scope`); the targets from `targets`. Every number links to the page
that lists what it counts: the firm list, a column of the pipeline board, the re-certification
cohort of an expiry year, the support ledger. Those pages take their own filter arguments, so
each link carries the dashboard's filters that page understands.
"""

from dataclasses import dataclass
from datetime import date

from flask import url_for

from crm.accounts.models import User
from crm.core.permissions import is_manager, sees_all_firms
from crm.dashboard import funnel, queries
from crm.dashboard.charts import Card, Dashboard, Figure, Series
from crm.dashboard.filters import DashboardFilters
from crm.dashboard.targets import INDICATORS, targets_of
from crm.pipeline.rules import HTE, LISTING, PROGRAMMES

#: The high-tech stages of firms in the reserve pool: admitted and not yet certified.
POOL_STAGES = ("reserve", "coaching", "applied", "review")
#: The listing-reserve stages of firms still on the road (not listed, not withdrawn).
LISTING_RESERVE_STAGES = tuple(
    stage.code
    for stage in PROGRAMMES[LISTING].stages
    if stage.kind != "exit" and not stage.is_terminal
)
#: The cohort years the conversion figure shows, up to the chosen year.
COHORT_YEARS = 6


@dataclass(frozen=True)
class Links:
    """The addresses of the lists behind the figures, narrowed as the dashboard is."""

    filters: DashboardFilters

    def _groups(self) -> dict[str, int]:
        # The firm list and the board name their filters without the `_id`.
        f = self.filters
        values = {
            "district": f.district_id,
            "park": f.park_id,
            "tech_field": f.tech_field_id,
            "manager": f.manager_id,
        }
        return {name: value for name, value in values.items() if value is not None}

    def firms(self, **args) -> str:
        """Return the firm list with the dashboard's groups and `args`."""
        return url_for("firms.list", **{**self._groups(), **args})

    def board(self, programme: str, **args) -> str:
        """Return a programme's board with the dashboard's groups and `args`."""
        return url_for("pipeline.board", code=programme, **{**self._groups(), **args})

    def column(self, programme: str, stage: str) -> str:
        """Return one column of a programme's board, with the dashboard's groups."""
        return url_for("pipeline.board_column", code=programme, stage_code=stage, **self._groups())

    def cohort(self, year: int, district_id: int | None) -> str:
        """Return the re-certification cohort expiring in `year` (district, manager kept)."""
        args = {"year": year, "district": district_id, "manager": self.filters.manager_id}
        return url_for("certification.cohort", **{k: v for k, v in args.items() if v is not None})

    def ledger(self, **args) -> str:
        """Return the support ledger with the dashboard's district and `args`."""
        values = {"district": self.filters.district_id, **args}
        return url_for("support.list", **{k: v for k, v in values.items() if v is not None})


def indicator_day(year: int, today: date) -> date:
    """Return the day a count "in `year`" is taken: the year's last day, or today if sooner."""
    return min(date(year, 12, 31), today)


def build(user: User, filters: DashboardFilters, today: date) -> Dashboard:
    """Return the cards and figures of the dashboard for `user` and `filters` on `today`."""
    scope = filters.scope(user)
    links = Links(filters)
    districts = queries.district_names()
    targets = Targets(user, filters)
    hte = funnel.firms_per_stage(HTE, scope=scope)
    listing = funnel.firms_per_stage(LISTING, scope=scope)
    cards = [
        Card(
            "reserve_count",
            INDICATORS["reserve_count"].name,
            sum(row.firms for row in hte if row.stage in POOL_STAGES),
            "家",
            href=links.board(HTE),
            target=targets.value("reserve_count"),
            target_note=targets.note,
            note="后备库、一企一策辅导、已申报和评审/公示中的企业",
        ),
        Card(
            "listing_reserve_count",
            INDICATORS["listing_reserve_count"].name,
            sum(row.firms for row in listing if row.stage in LISTING_RESERVE_STAGES),
            "家",
            href=links.board(LISTING),
            target=targets.value("listing_reserve_count"),
            target_note=targets.note,
            note="尚未上市、未撤回的上市后备企业",
        ),
    ]
    figures = [
        stage_figure("funnel_hte", HTE, hte, links),
        stage_figure("funnel_listing", LISTING, listing, links),
        conversion_figure(filters.year, scope, links),
        median_figure(scope, today, links),
        expiring_figure(filters.year, scope, links, districts),
    ]
    return Dashboard(cards, figures)


class Targets:
    """The targets of the year that apply to what the dashboard shows.

    A district filter compares with that district's target; the whole city (a user who sees
    every firm, no group filter) with the city's; a manager's reach with the sum of the targets
    of the districts they cover, when each has one. Other filters (a park, a field, a manager)
    have no target.
    """

    def __init__(self, user: User, filters: DashboardFilters):
        self.values: dict[str, dict[int | None, object]] = {}
        for target in targets_of(filters.year):
            self.values.setdefault(target.indicator, {})[target.district_id] = target.value
        self.districts: list[int | None] | None
        self.note = ""
        if filters.park_id or filters.tech_field_id or filters.manager_id:
            self.districts = None
        elif filters.district_id is not None:
            self.districts = [filters.district_id]
        elif sees_all_firms(user):
            self.districts = [None]
        elif is_manager(user) and user.district_ids:
            self.districts = sorted(user.district_ids)
            self.note = "所辖区县目标合计"
        else:
            self.districts = None

    def value(self, indicator: str):
        """Return the target of `indicator` for what is shown, or None."""
        if self.districts is None:
            return None
        found = self.values.get(indicator, {})
        if any(district not in found for district in self.districts):
            return None
        return sum(found[district] for district in self.districts)

    def by_district(self, indicator: str) -> dict[int | None, object]:
        """Return the targets of `indicator` by district (None: the city)."""
        return self.values.get(indicator, {})


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
