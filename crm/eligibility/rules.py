"""Pure rules of high-tech enterprise certification (domain.md §2): no Flask, no database.

`assess_hte` judges the eight conditions as met, unmet or unknown, scores innovation as a range
(what the data fixes is computed, what experts judge comes from the manager's assessment or stays
open), gives a verdict that never claims more than the data supports, and writes the gap list.
`assess_tech_sme` (tech-based SME evaluation, §7) lives in `tech_sme` and is re-exported here.
"""

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from crm.eligibility.facts import Condition, FirmFacts, Gap, HteAssessment, Indicator, Status
from crm.eligibility.measures import (
    ONE,
    ZERO,
    counted_ip,
    growth_rate,
    percent,
    threshold_percent,
    wan,
    wan_needed,
    window_years,
    years_text,
)
from crm.eligibility.score import Scorer
from crm.eligibility.settings import Settings
from crm.eligibility.tech_sme import assess_tech_sme

# --- The conditions -------------------------------------------------------------------------


class _Assessor:
    """Judge one firm on one application date; collects conditions and gaps as it goes."""

    def __init__(self, facts: FirmFacts, applied_on: date, settings: Settings) -> None:
        self.facts = facts
        self.applied_on = applied_on
        self.hte = settings.hte
        self.window = window_years(facts, applied_on, self.hte.rd_years)
        self.latest = facts.year(applied_on.year - 1)
        self.ip = counted_ip(facts.ip_items, applied_on)
        self.gaps: list[Gap] = []

    def gap(self, code: str, message: str, shortfall, amount=None) -> None:
        shortfall = min(ONE, max(ZERO, Decimal(shortfall)))
        self.gaps.append(Gap(code, message, shortfall.quantize(Decimal("0.0001")), amount))

    def missing(self, code: str, what: str) -> None:
        self.gap(code, f"缺少数据：{what}", ONE)

    # 1 --------------------------------------------------------------------------------------
    def registered(self) -> Condition:
        label, days = "注册成立一年以上", self.hte.min_days_registered
        threshold = f"≥ {days} 天"
        if self.facts.established_on is None:
            self.missing("registered", "成立日期")
            return Condition(1, "registered", label, "unknown", "", threshold)
        age = (self.applied_on - self.facts.established_on).days
        value = f"{age} 天（{self.facts.established_on.isoformat()} 成立）"
        if age >= days:
            return Condition(1, "registered", label, "met", value, threshold)
        eligible_on = self.facts.established_on + timedelta(days=days)
        self.gap(
            "registered",
            f"成立未满一年：{eligible_on.isoformat()} 起可申报",
            Decimal(days - age) / days,
        )
        return Condition(1, "registered", label, "unmet", value, threshold)

    # 2 --------------------------------------------------------------------------------------
    def owns_ip(self) -> Condition:
        label = "拥有核心自主知识产权"
        class1 = sum(1 for i in self.ip if i.ip_class == "I")
        class2 = len(self.ip) - class1
        value = f"Ⅰ类 {class1} 项，Ⅱ类 {class2} 项"
        if self.ip:
            return Condition(2, "owns_ip", label, "met", value, "≥ 1 项自有有效知识产权")
        self.gap("owns_ip", "没有可计入的自有知识产权：需取得 1 项 Ⅰ类或 Ⅱ类知识产权", ONE)
        note = "仅计申报日前已授权、有效、非许可使用的知识产权；Ⅱ类知识产权只能用于一次申报"
        return Condition(2, "owns_ip", label, "unmet", value, "≥ 1 项自有有效知识产权", note)

    # 3 --------------------------------------------------------------------------------------
    def tech_field(self) -> Condition:
        label = "属于国家重点支持的高新技术领域"
        if self.facts.tech_field:
            return Condition(3, "tech_field", label, "met", self.facts.tech_field, "八大领域之一")
        self.missing("tech_field", "企业核心技术所属的高新技术领域")
        return Condition(3, "tech_field", label, "unknown", "", "八大领域之一")

    # 4 --------------------------------------------------------------------------------------
    def tech_staff(self) -> Condition:
        label, minimum = "科技人员占比", self.hte.tech_staff_min
        threshold = f"≥ {threshold_percent(minimum)}"
        year = self.applied_on.year - 1
        row = self.latest
        if row is None or row.tech_staff is None or not row.total_staff:
            self.missing("tech_staff", f"{year} 年度职工总数或科技人员数")
            return Condition(4, "tech_staff", label, "unknown", "", threshold)
        ratio = Decimal(row.tech_staff) / Decimal(row.total_staff)
        value = f"{percent(ratio)}（{row.tech_staff}/{row.total_staff} 人，{year} 年）"
        if ratio >= minimum:
            return Condition(4, "tech_staff", label, "met", value, threshold)
        # New hires raise both counts: (t + x) / (n + x) ≥ r.
        needed = (minimum * row.total_staff - row.tech_staff) / (ONE - minimum)
        people = int(needed.to_integral_value(ROUND_CEILING))
        self.gap(
            "tech_staff",
            f"科技人员占比 {percent(ratio)}，还需 {people} 名科技人员",
            (minimum - ratio) / minimum,
            Decimal(people),
        )
        return Condition(4, "tech_staff", label, "unmet", value, threshold)

    # 5 --------------------------------------------------------------------------------------
    def rd_intensity(self) -> Condition:
        label = "研究开发费用占比"
        rows = [self.facts.year(y) for y in self.window]
        missing = [
            y
            for y, r in zip(self.window, rows, strict=True)
            if r is None
            or r.rd_expense is None
            or r.sales_revenue is None
            or r.domestic_rd_expense is None
        ]
        if not self.window or missing or self.latest is None:
            years = missing or [self.applied_on.year - 1]
            self.missing(
                "rd_intensity", f"{years_text(years)} 年度研发费用、境内研发费用或销售收入"
            )
            return Condition(5, "rd_intensity", label, "unknown", "", self._rd_threshold(None))
        rd = sum((r.rd_expense for r in rows), ZERO)
        sales = sum((r.sales_revenue for r in rows), ZERO)
        domestic = sum((r.domestic_rd_expense for r in rows), ZERO)
        minimum = self._rd_minimum(self.latest.sales_revenue)
        threshold = self._rd_threshold(self.latest.sales_revenue)
        span = f"近{len(self.window)}年" if len(self.window) < self.hte.rd_years else "近三年"
        statuses: list[Status] = []
        parts = []
        if sales > 0:
            ratio = rd / sales
            parts.append(f"{span}研发费用占比 {percent(ratio)}")
            if ratio >= minimum:
                statuses.append("met")
            else:
                statuses.append("unmet")
                self.gap(
                    "rd_intensity",
                    f"研发费用占比 {percent(ratio)}，需达到 {threshold_percent(minimum)}："
                    f"{span}研发投入还差 {wan_needed(minimum * sales - rd)} 万元",
                    (minimum - ratio) / minimum,
                    minimum * sales - rd,
                )
        else:
            statuses.append("unknown")
            self.missing("rd_intensity", f"{span}销售收入（合计为 0，无法计算研发费用占比）")
        share_min = self.hte.domestic_rd_min
        if rd > 0:
            share = domestic / rd
            parts.append(f"境内研发占比 {percent(share)}")
            if share >= share_min:
                statuses.append("met")
            else:
                statuses.append("unmet")
                # Added domestic R&D raises both sums: (d + x) / (r + x) ≥ share.
                extra = (share_min * rd - domestic) / (ONE - share_min)
                self.gap(
                    "domestic_rd",
                    f"境内研发费用占比 {percent(share)}，需达到 {threshold_percent(share_min)}："
                    f"境内研发投入还差 {wan_needed(extra)} 万元",
                    (share_min - share) / share_min,
                    extra,
                )
        status = _combine(statuses)
        return Condition(5, "rd_intensity", label, status, "；".join(parts), threshold)

    def _rd_minimum(self, latest_sales: Decimal) -> Decimal:
        for tier in self.hte.rd_tiers:
            if tier.max_sales is None or latest_sales <= tier.max_sales:
                return tier.min_ratio
        return self.hte.rd_tiers[-1].min_ratio

    def _rd_threshold(self, latest_sales: Decimal | None) -> str:
        share = f"境内研发 ≥ {threshold_percent(self.hte.domestic_rd_min)}"
        if latest_sales is None:
            tiers = "、".join(threshold_percent(t.min_ratio) for t in self.hte.rd_tiers)
            return f"按最近一年销售收入分档 {tiers}；{share}"
        return (
            f"≥ {threshold_percent(self._rd_minimum(latest_sales))}"
            f"（最近一年销售收入 {wan(latest_sales)} 万元）；{share}"
        )

    # 6 --------------------------------------------------------------------------------------
    def hightech_revenue(self) -> Condition:
        label, minimum = "高新技术产品（服务）收入占比", self.hte.hightech_revenue_min
        threshold = f"≥ {threshold_percent(minimum)}"
        year = self.applied_on.year - 1
        row = self.latest
        if row is None or row.hightech_revenue is None or not row.total_revenue:
            self.missing("hightech_revenue", f"{year} 年度总收入或高新技术产品（服务）收入")
            return Condition(6, "hightech_revenue", label, "unknown", "", threshold)
        ratio = row.hightech_revenue / row.total_revenue
        value = f"{percent(ratio)}（{year} 年）"
        if ratio >= minimum:
            return Condition(6, "hightech_revenue", label, "met", value, threshold)
        # New high-tech revenue raises both: (h + x) / (t + x) ≥ share.
        extra = (minimum * row.total_revenue - row.hightech_revenue) / (ONE - minimum)
        self.gap(
            "hightech_revenue",
            f"高新技术产品（服务）收入占比 {percent(ratio)}，需达到 {threshold_percent(minimum)}："
            f"高新收入还差 {wan_needed(extra)} 万元",
            (minimum - ratio) / minimum,
            extra,
        )
        return Condition(6, "hightech_revenue", label, "unmet", value, threshold)

    # 7 --------------------------------------------------------------------------------------
    def score(self, indicators: Sequence[Indicator]) -> Condition:
        label, passing = "创新能力评价", self.hte.pass_score
        low, high = sum(i.low for i in indicators), sum(i.high for i in indicators)
        value = f"{low}–{high} 分" if low != high else f"{low} 分"
        threshold = f"≥ {passing} 分"
        if low >= passing:
            status: Status = "met"
        elif high < passing:
            status = "unmet"
            self.gap(
                "score",
                f"创新能力评分最高 {high} 分，需达到 {passing} 分",
                Decimal(passing - high) / passing,
            )
        else:
            status = "unknown"
            # Open expert items are uncertainty, not a shortfall: they must not outweigh the
            # measured gaps when firms are ranked by their largest gap.
            self.gap(
                "score",
                f"创新能力评分 {low}–{high} 分，需完成专员评估或补充数据以确认达到 {passing} 分",
                ZERO,
            )
        if status != "met":
            self._ip_hint()
        return Condition(7, "score", label, status, value, threshold)

    def _ip_hint(self) -> None:
        class1 = sum(1 for i in self.ip if i.ip_class == "I")
        if class1:
            return
        class2 = len(self.ip)
        top = self.hte.ip_class2_bands[0].at_least if self.hte.ip_class2_bands else Decimal(5)
        more = int(top) - class2
        message = "需 1 项 Ⅰ类知识产权"
        if more > 0:
            message += f"或再取得 {more} 项 Ⅱ类"
        self.gap("ip_quantity", message, ZERO)

    # 8 --------------------------------------------------------------------------------------
    def clean_record(self) -> Condition:
        label = "申请前一年内无重大安全、质量事故或严重环境违法行为"
        clean = self.facts.expert.clean_record
        if clean is None:
            self.gap(
                "clean_record", "需确认申请前一年内无重大安全、质量事故或严重环境违法行为", ZERO
            )
            return Condition(8, "clean_record", label, "unknown", "未确认", "无")
        if clean:
            return Condition(8, "clean_record", label, "met", "已确认无", "无")
        self.gap(
            "clean_record", "申请前一年内有重大安全、质量事故或严重环境违法行为，不能申报", ONE
        )
        return Condition(8, "clean_record", label, "unmet", "有", "无")

    # --- The innovation score --------------------------------------------------------------


def _combine(statuses: Sequence[Status]) -> Status:
    if "unmet" in statuses:
        return "unmet"
    if "unknown" in statuses or not statuses:
        return "unknown"
    return "met"


def assess_hte(facts: FirmFacts, applied_on: date, settings: Settings) -> HteAssessment:
    """Pre-assess `facts` against high-tech certification for an application on `applied_on`."""
    a = _Assessor(facts, applied_on, settings)
    indicators = Scorer(facts, a.hte, a.window, a.ip).indicators()
    conditions = (
        a.registered(),
        a.owns_ip(),
        a.tech_field(),
        a.tech_staff(),
        a.rd_intensity(),
        a.hightech_revenue(),
        a.score(indicators),
        a.clean_record(),
    )
    statuses = [c.status for c in conditions]
    if "unmet" in statuses:
        verdict = "fail"
    elif all(s == "met" for s in statuses):
        verdict = "pass"
    else:
        verdict = "uncertain"
    gaps = tuple(sorted(a.gaps, key=lambda g: -g.shortfall))
    return HteAssessment(applied_on, conditions, indicators, verdict, gaps)


__all__ = ["assess_hte", "assess_tech_sme", "growth_rate"]
