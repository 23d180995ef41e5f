"""The innovation score of high-tech certification (domain.md §2.2), as a range of points.

What the data fixes is computed (IP quantity, transformation, growth); what experts judge comes
from the account manager's assessment, or stays open over its whole range.
"""

from decimal import ROUND_HALF_UP, Decimal

from crm.eligibility.facts import FirmFacts, Indicator, IPFacts, ScoreItem, YearFacts
from crm.eligibility.measures import band_for, growth_points, growth_rate, percent, years_text
from crm.eligibility.settings import HteSettings


class Scorer:
    """Score one firm's innovation for one application."""

    def __init__(
        self, facts: FirmFacts, hte: HteSettings, window: list[int], ip: list[IPFacts]
    ) -> None:
        self.facts = facts
        self.hte = hte
        self.window = window
        self.ip = ip

    def indicators(self) -> tuple[Indicator, ...]:
        """Return the four indicators with their sub-items."""
        hte = self.hte
        return (
            Indicator("ip", "知识产权", 30, self._ip_items()),
            Indicator("transformation", "科技成果转化能力", 30, (self._transformation(),)),
            Indicator(
                "rd_management",
                "研究开发组织管理水平",
                20,
                (
                    self._expert(
                        "rd_rules", "研发组织管理制度与研发投入核算体系", hte.rd_rules_max
                    ),
                    self._expert("rd_institution", "研发机构与产学研合作", hte.rd_institution_max),
                    self._expert(
                        "rd_incentives", "成果转化激励与创新创业平台", hte.rd_incentives_max
                    ),
                    self._expert("rd_talent", "科技人员培养与人才引进", hte.rd_talent_max),
                ),
            ),
            Indicator("growth", "企业成长性", 20, self._growth_items()),
        )

    def _expert(self, code: str, label: str, maximum: int, *, band=None) -> ScoreItem:
        low, high = band or (0, maximum)
        value = getattr(self.facts.expert, code)
        if value is not None:
            value = min(high, max(low, value))
            return ScoreItem(code, label, maximum, value, value, "assessed", "专员评估")
        return ScoreItem(code, label, maximum, low, high, "open", f"待评估（{low}–{high} 分）")

    def _ip_items(self) -> tuple[ScoreItem, ...]:
        hte = self.hte
        class1 = sum(1 for i in self.ip if i.ip_class == "I")
        class2 = len(self.ip) - class1
        if class1:
            quantity = hte.ip_class1_band
        else:
            quantity = band_for(Decimal(class2), hte.ip_class2_bands) or (0, 0)
        basis = f"Ⅰ类 {class1} 项，Ⅱ类 {class2} 项"
        items = [ScoreItem("ip_quantity", "知识产权数量", 8, *quantity, "computed", basis)]
        if not self.ip:
            none = "无可计入的知识产权"
            items += [
                ScoreItem(
                    "tech_advancement",
                    "技术的先进程度",
                    hte.ip_advancement_max,
                    0,
                    0,
                    "computed",
                    none,
                ),
                ScoreItem(
                    "core_support",
                    "对主要产品（服务）的核心支持作用",
                    hte.ip_core_support_max,
                    0,
                    0,
                    "computed",
                    none,
                ),
                ScoreItem("acquisition", "知识产权获得方式", 6, 0, 0, "computed", none),
            ]
        else:
            own = any(i.acquisition == "own" for i in self.ip)
            band = hte.ip_acquisition_own if own else hte.ip_acquisition_other
            items += [
                self._expert("tech_advancement", "技术的先进程度", hte.ip_advancement_max),
                self._expert(
                    "core_support", "对主要产品（服务）的核心支持作用", hte.ip_core_support_max
                ),
                self._expert("acquisition", "知识产权获得方式", 6, band=band),
            ]
        items.append(self._expert("standards", "参与编制标准（加分项）", hte.ip_standards_max))
        return tuple(items)

    def _transformation(self) -> ScoreItem:
        label, maximum = "科技成果转化能力", 30
        rows = [self.facts.year(y) for y in self.window]
        missing = [
            y
            for y, r in zip(self.window, rows, strict=True)
            if r is None or r.transformed_results is None
        ]
        if not self.window or missing:
            years = years_text(missing) if missing else "近三年"
            return ScoreItem(
                "transformation",
                label,
                maximum,
                0,
                maximum,
                "open",
                f"缺少 {years} 年度成果转化数，按 0–30 分估计",
            )
        average = Decimal(sum(r.transformed_results for r in rows)) / len(rows)
        low, high = band_for(average, self.hte.transformation_bands) or (0, 0)
        shown = average.quantize(Decimal("0.01"), ROUND_HALF_UP).normalize()
        return ScoreItem(
            "transformation",
            label,
            maximum,
            low,
            high,
            "computed",
            f"年均转化 {shown:f} 项（{len(rows)} 年）",
        )

    def _growth_items(self) -> tuple[ScoreItem, ...]:
        return (
            self._growth("net_asset_growth", "净资产增长率", YearFacts.net_assets.fget),
            self._growth("sales_growth", "销售收入增长率", lambda r: r.sales_revenue),
        )

    def _growth(self, code: str, label: str, value_of) -> ScoreItem:
        rows = [self.facts.year(y) for y in self.window]
        values = [None if r is None else value_of(r) for r in rows]
        missing = [y for y, v in zip(self.window, values, strict=True) if v is None]
        if missing:
            return ScoreItem(
                code,
                label,
                10,
                0,
                10,
                "open",
                f"缺少 {years_text(missing)} 年度数据，按 0–10 分估计",
            )
        growth = growth_rate(values)
        low, high = growth_points(growth.rate, self.hte)
        if growth.rate is None:
            basis = growth.note
        else:
            basis = f"{percent(growth.rate)}" + (f"（{growth.note}）" if growth.note else "")
        return ScoreItem(code, label, 10, low, high, "computed", basis)
