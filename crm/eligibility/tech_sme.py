"""Pure rules of the tech-based SME evaluation (科技型中小企业评价, domain.md §7).

The score is exact: 20 points for the tech-staff ratio, 50 for R&D (the better of R&D ÷ sales and
R&D ÷ total costs), 30 for IP. A firm qualifies with at least 60 points and a non-zero tech-staff
score, or through a direct route, and always within the size limits and with a clean record.
"""

from collections.abc import Sequence
from decimal import Decimal

from crm.eligibility.facts import FirmFacts, IPFacts, TechSmeAssessment
from crm.eligibility.settings import Settings, Step

WAN = Decimal(10000)


def step_points(value: Decimal, steps: Sequence[Step]) -> int:
    """Return the points of the first step `value` reaches (0 below every step)."""
    for step in steps:
        if value >= step.at_least:
            return step.points
    return 0


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('0.1'))}%"


def _counted(items: Sequence[IPFacts], year: int) -> list[IPFacts]:
    return [
        i
        for i in items
        if i.ip_class is not None
        and i.status == "valid"
        and i.acquisition != "license"
        and i.granted_on is not None
        and i.granted_on.year <= year
    ]


def assess_tech_sme(facts: FirmFacts, year: int, settings: Settings) -> TechSmeAssessment:
    """Evaluate `facts` as a tech-based SME for `year`, on the figures of the year before."""
    s = settings.tech_sme
    basis_year = year - 1
    row = facts.year(basis_year)
    missing: list[str] = []

    tech_points = None
    if row is not None and row.tech_staff is not None and row.total_staff:
        tech_points = step_points(
            Decimal(row.tech_staff) / Decimal(row.total_staff), s.tech_staff_steps
        )
    else:
        missing.append(f"{basis_year} 年度职工总数或科技人员数")

    rd_points, rd_basis = None, ""
    options = []
    if row is not None and row.rd_expense is not None:
        if row.sales_revenue:
            ratio = row.rd_expense / row.sales_revenue
            options.append(
                (step_points(ratio, s.rd_sales_steps), f"研发费用占销售收入 {_percent(ratio)}")
            )
        if row.total_costs:
            ratio = row.rd_expense / row.total_costs
            options.append(
                (step_points(ratio, s.rd_costs_steps), f"研发费用占成本费用总额 {_percent(ratio)}")
            )
    if options:
        rd_points, rd_basis = max(options, key=lambda o: o[0])
    else:
        missing.append(f"{basis_year} 年度研发费用及销售收入或成本费用总额")

    ip = _counted(facts.ip_items, year)
    class1 = sum(1 for i in ip if i.ip_class == "I")
    class2 = len(ip) - class1
    ip_points = s.ip_class1_points if class1 else step_points(Decimal(class2), s.ip_class2_steps)

    size_problems = []
    size_known = row is not None and None not in (
        row.total_staff,
        row.sales_revenue,
        row.total_assets,
    )
    if row is not None:
        if row.total_staff is not None and row.total_staff > s.max_staff:
            size_problems.append(f"职工总数 {row.total_staff} 人，超过 {s.max_staff} 人")
        if row.sales_revenue is not None and row.sales_revenue > s.max_sales:
            limit = f"{s.max_sales / WAN:,.0f}"
            size_problems.append(
                f"年销售收入 {row.sales_revenue / WAN:,.2f} 万元，超过 {limit} 万元"
            )
        if row.total_assets is not None and row.total_assets > s.max_assets:
            size_problems.append(
                f"资产总额 {row.total_assets / WAN:,.2f} 万元，超过 {s.max_assets / WAN:,.0f} 万元"
            )
    if not size_known:
        missing.append(f"{basis_year} 年度职工总数、销售收入或资产总额（规模条件）")

    routes = []
    if facts.holds_valid_hte:
        routes.append("有效期内的高新技术企业")
    if facts.expert.national_award:
        routes.append("近五年获得国家级科技奖励（前三名完成单位）")
    if facts.expert.provincial_rd_institution:
        routes.append("拥有经认定的省部级以上研发机构")
    if facts.expert.led_standard:
        routes.append("近五年主导制定国际、国家或行业标准")

    score = (
        None if tech_points is None or rd_points is None else tech_points + rd_points + ip_points
    )
    reasons: list[str] = []
    clean = facts.expert.clean_record
    if size_problems or clean is False:
        verdict = "fail"
        reasons += size_problems
        if clean is False:
            reasons.append("有重大安全、质量事故，或列入经营异常名录、严重违法失信名单")
    elif routes or (score is not None and score >= s.pass_score and tech_points):
        reasons.append("符合直接认定条件：" + "；".join(routes) if routes else f"评分 {score} 分")
        if clean is None or not size_known:
            verdict = "uncertain"
            if clean is None:
                reasons.append("需确认无重大事故，未列入经营异常名录和严重违法失信名单")
        else:
            verdict = "pass"
    elif score is None:
        verdict = "uncertain"
        reasons.append("缺少数据，无法计算评分")
    else:
        verdict = "fail"
        if score < s.pass_score:
            reasons.append(f"评分 {score} 分，低于 {s.pass_score} 分")
        if not tech_points:
            reasons.append("科技人员指标得分为 0")
    return TechSmeAssessment(
        year=year,
        tech_staff_points=tech_points,
        rd_points=rd_points,
        rd_basis=rd_basis,
        ip_points=ip_points,
        direct_routes=tuple(routes),
        size_problems=tuple(size_problems),
        missing=tuple(missing),
        verdict=verdict,
        reasons=tuple(reasons),
    )
