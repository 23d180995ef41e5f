"""What the eligibility rules read (facts) and what they return (results). Pure data, no Flask.

Money is in yuan as Decimal; ratios are Decimal fractions (0.05 is 5%).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from crm.firms.rules import ip_class

Status = Literal["met", "unmet", "unknown"]
Verdict = Literal["pass", "fail", "uncertain"]

STATUS_LABELS = {"met": "符合", "unmet": "不符合", "unknown": "待确认"}
VERDICT_LABELS = {"pass": "预计通过", "fail": "暂不符合", "uncertain": "有待确认"}
#: Sort order of verdicts: the nearest to passing first.
VERDICT_RANK = {"pass": 0, "uncertain": 1, "fail": 2}


@dataclass(frozen=True)
class YearFacts:
    """A firm's figures for one accounting year; None means not known."""

    year: int
    total_revenue: Decimal | None = None
    sales_revenue: Decimal | None = None
    hightech_revenue: Decimal | None = None
    rd_expense: Decimal | None = None
    domestic_rd_expense: Decimal | None = None
    total_assets: Decimal | None = None
    total_liabilities: Decimal | None = None
    #: 成本费用总额, for the tech-SME R&D option.
    total_costs: Decimal | None = None
    total_staff: int | None = None
    tech_staff: int | None = None
    transformed_results: int | None = None

    @property
    def net_assets(self) -> Decimal | None:
        """Return total assets minus total liabilities."""
        if self.total_assets is None or self.total_liabilities is None:
            return None
        return self.total_assets - self.total_liabilities


@dataclass(frozen=True)
class IPFacts:
    """One intellectual-property item."""

    kind: str
    status: str = "valid"
    granted_on: date | None = None
    acquisition: str = "own"
    #: The application year this item was used in (a Class II item serves one application only).
    used_in_year: int | None = None

    @property
    def ip_class(self) -> str | None:
        """Return `I` or `II`."""
        return ip_class(self.kind)


@dataclass(frozen=True)
class ExpertFacts:
    """The account manager's assessment of what only experts judge; None means not assessed."""

    tech_advancement: int | None = None  # 0-8
    core_support: int | None = None  # 0-8
    acquisition: int | None = None  # 0-6, inside the band the IP allows
    standards: int | None = None  # 0-2
    rd_rules: int | None = None  # 0-6: R&D management rules and R&D expense ledger
    rd_institution: int | None = None  # 0-6: in-house R&D institution, university cooperation
    rd_incentives: int | None = None  # 0-4: transformation incentives, open platform
    rd_talent: int | None = None  # 0-4: training and talent incentives
    #: No major safety or quality accident or serious environmental violation in the past year.
    clean_record: bool | None = None
    #: Tech-SME direct routes.
    national_award: bool = False
    provincial_rd_institution: bool = False
    led_standard: bool = False


@dataclass(frozen=True)
class FirmFacts:
    """Everything the rules need to know about one firm."""

    established_on: date | None = None
    tech_field: str | None = None
    years: tuple[YearFacts, ...] = ()
    ip_items: tuple[IPFacts, ...] = ()
    expert: ExpertFacts = field(default_factory=ExpertFacts)
    #: Holds a high-tech enterprise certificate valid in the evaluation year (tech-SME route).
    holds_valid_hte: bool = False

    def year(self, year: int) -> YearFacts | None:
        """Return the figures of `year`, if recorded."""
        return next((y for y in self.years if y.year == year), None)


@dataclass(frozen=True)
class Condition:
    """One of the eight certification conditions, with the figures it was judged on."""

    number: int
    code: str
    label: str
    status: Status
    value: str = ""
    threshold: str = ""
    note: str = ""

    @property
    def status_label(self) -> str:
        """Return the status in Chinese."""
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class ScoreItem:
    """A sub-item of the innovation score, as the range of points it can take."""

    code: str
    label: str
    maximum: int
    low: int
    high: int
    #: `computed` from data, `assessed` by the manager, or `open` (the whole range is possible).
    source: str
    basis: str = ""


@dataclass(frozen=True)
class Indicator:
    """One of the four indicators of the innovation score."""

    code: str
    label: str
    maximum: int
    items: tuple[ScoreItem, ...]

    # Sub-items may add up to more than the indicator's maximum (the IP standards item is a
    # bonus inside the 30 points), so the totals are capped.
    @property
    def low(self) -> int:
        """Return the lowest points the indicator can take."""
        return min(self.maximum, sum(i.low for i in self.items))

    @property
    def high(self) -> int:
        """Return the highest points the indicator can take."""
        return min(self.maximum, sum(i.high for i in self.items))


@dataclass(frozen=True)
class Gap:
    """Something missing for certification, with how far short the firm is (0 to 1)."""

    code: str
    message: str
    shortfall: Decimal
    amount: Decimal | None = None


@dataclass(frozen=True)
class HteAssessment:
    """The pre-assessment of a firm against high-tech certification on an application date."""

    applied_on: date
    conditions: tuple[Condition, ...]
    indicators: tuple[Indicator, ...]
    verdict: Verdict
    gaps: tuple[Gap, ...]

    @property
    def score_min(self) -> int:
        """Return the lowest total score the firm can get."""
        return sum(i.low for i in self.indicators)

    @property
    def score_max(self) -> int:
        """Return the highest total score the firm can get."""
        return sum(i.high for i in self.indicators)

    @property
    def largest_gap(self) -> Decimal:
        """Return the largest shortfall in the gap list (0 when nothing is missing)."""
        return max((g.shortfall for g in self.gaps), default=Decimal(0))

    @property
    def verdict_label(self) -> str:
        """Return the verdict in Chinese."""
        return VERDICT_LABELS[self.verdict]

    def condition(self, code: str) -> Condition:
        """Return the condition with `code`."""
        return next(c for c in self.conditions if c.code == code)

    def indicator(self, code: str) -> Indicator:
        """Return the indicator with `code`."""
        return next(i for i in self.indicators if i.code == code)

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data for storage (the shape `dataclasses.asdict` gives, faster).

        Every firm's assessment is serialised on each recomputation, and `asdict` deep-copies.
        """
        return {
            "applied_on": self.applied_on.isoformat(),
            "conditions": [dict(vars(c)) for c in self.conditions],
            "indicators": [
                {
                    "code": i.code,
                    "label": i.label,
                    "maximum": i.maximum,
                    "items": [dict(vars(item)) for item in i.items],
                }
                for i in self.indicators
            ],
            "verdict": self.verdict,
            "gaps": [
                {
                    "code": g.code,
                    "message": g.message,
                    "shortfall": str(g.shortfall),
                    "amount": None if g.amount is None else str(g.amount),
                }
                for g in self.gaps
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HteAssessment":
        """Rebuild a stored assessment."""
        return cls(
            applied_on=date.fromisoformat(data["applied_on"]),
            conditions=tuple(Condition(**c) for c in data["conditions"]),
            indicators=tuple(
                Indicator(
                    code=i["code"],
                    label=i["label"],
                    maximum=i["maximum"],
                    items=tuple(ScoreItem(**item) for item in i["items"]),
                )
                for i in data["indicators"]
            ),
            verdict=data["verdict"],
            gaps=tuple(
                Gap(
                    code=g["code"],
                    message=g["message"],
                    shortfall=Decimal(g["shortfall"]),
                    amount=None if g.get("amount") is None else Decimal(g["amount"]),
                )
                for g in data["gaps"]
            ),
        )


@dataclass(frozen=True)
class TechSmeAssessment:
    """The tech-SME evaluation of a firm for a year: the exact score and the verdict."""

    year: int
    tech_staff_points: int | None
    rd_points: int | None
    rd_basis: str
    ip_points: int
    direct_routes: tuple[str, ...]
    size_problems: tuple[str, ...]
    missing: tuple[str, ...]
    verdict: Verdict
    reasons: tuple[str, ...]

    @property
    def score(self) -> int | None:
        """Return the 100-point score, or None while figures are missing."""
        if self.tech_staff_points is None or self.rd_points is None:
            return None
        return self.tech_staff_points + self.rd_points + self.ip_points

    @property
    def verdict_label(self) -> str:
        """Return the verdict in Chinese."""
        return VERDICT_LABELS[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data for storage (what `jsonable(asdict(...))` gives, faster).

        Every firm's evaluation is serialised on each recomputation, and `asdict` deep-copies.
        """
        return {
            "year": self.year,
            "tech_staff_points": self.tech_staff_points,
            "rd_points": self.rd_points,
            "rd_basis": self.rd_basis,
            "ip_points": self.ip_points,
            "direct_routes": list(self.direct_routes),
            "size_problems": list(self.size_problems),
            "missing": list(self.missing),
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "score": self.score,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TechSmeAssessment":
        """Rebuild a stored evaluation."""
        values = {k: v for k, v in data.items() if k != "score"}
        for key in ("direct_routes", "size_problems", "missing", "reasons"):
            values[key] = tuple(values.get(key, ()))
        return cls(**values)


def jsonable(value: Any) -> Any:
    """Return `value` with decimals and dates as strings, ready for JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
