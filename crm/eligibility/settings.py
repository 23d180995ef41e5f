"""The thresholds and bands of the eligibility rules, as data (domain.md §2 and §7).

Policy numbers change by year and place, so an administrator edits them as a new version with an
effective date; every stored assessment records the version it used. The defaults below are the
national rules of 国科发火〔2016〕32号 / 195号 and the 2022 tech-SME evaluation method.
"""

from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from typing import Any

from crm.eligibility.facts import jsonable


@dataclass(frozen=True)
class Band:
    """A band of a scored indicator: values at or above `at_least` score `low` to `high` points."""

    at_least: Decimal
    low: int
    high: int


@dataclass(frozen=True)
class RdTier:
    """The R&D intensity required of firms whose latest sales revenue is at most `max_sales`."""

    max_sales: Decimal | None  # yuan; None means no upper limit
    min_ratio: Decimal


@dataclass(frozen=True)
class Step:
    """A step of an exact score: values at or above `at_least` score `points`."""

    at_least: Decimal
    points: int


def _d(value: str) -> Decimal:
    return Decimal(value)


@dataclass(frozen=True)
class HteSettings:
    """Thresholds and bands of the high-tech enterprise certification (domain.md §2)."""

    min_days_registered: int = 365
    tech_staff_min: Decimal = _d("0.10")
    rd_years: int = 3
    rd_tiers: tuple[RdTier, ...] = (
        RdTier(_d("50000000"), _d("0.05")),
        RdTier(_d("200000000"), _d("0.04")),
        RdTier(None, _d("0.03")),
    )
    domestic_rd_min: Decimal = _d("0.60")
    hightech_revenue_min: Decimal = _d("0.60")
    pass_score: int = 71
    #: IP quantity (max 8): one Class I item, or Class II counts at or above each step.
    ip_class1_band: tuple[int, int] = (7, 8)
    ip_class2_bands: tuple[Band, ...] = (
        Band(_d(5), 5, 6),
        Band(_d(3), 3, 4),
        Band(_d(1), 1, 2),
    )
    ip_advancement_max: int = 8
    ip_core_support_max: int = 8
    ip_acquisition_own: tuple[int, int] = (1, 6)
    ip_acquisition_other: tuple[int, int] = (1, 3)
    ip_standards_max: int = 2
    #: Yearly average number of transformed results → points.
    transformation_bands: tuple[Band, ...] = (
        Band(_d(5), 25, 30),
        Band(_d(4), 19, 24),
        Band(_d(3), 13, 18),
        Band(_d(2), 7, 12),
        Band(_d(1), 1, 6),
    )
    rd_rules_max: int = 6
    rd_institution_max: int = 6
    rd_incentives_max: int = 4
    rd_talent_max: int = 4
    #: Growth rate → points, for net assets and for sales; a rate above 0 below the last band
    #: scores `growth_positive`, and a rate at or below 0 scores nothing.
    growth_bands: tuple[Band, ...] = (
        Band(_d("0.35"), 9, 10),
        Band(_d("0.25"), 7, 8),
        Band(_d("0.15"), 5, 6),
        Band(_d("0.05"), 3, 4),
    )
    growth_positive: tuple[int, int] = (1, 2)


@dataclass(frozen=True)
class TechSmeSettings:
    """Size limits and the exact 100-point score of the tech-SME evaluation (domain.md §7)."""

    max_staff: int = 500
    max_sales: Decimal = _d("200000000")
    max_assets: Decimal = _d("200000000")
    pass_score: int = 60
    tech_staff_steps: tuple[Step, ...] = (
        Step(_d("0.30"), 20),
        Step(_d("0.25"), 16),
        Step(_d("0.20"), 12),
        Step(_d("0.15"), 8),
        Step(_d("0.10"), 4),
    )
    rd_sales_steps: tuple[Step, ...] = (
        Step(_d("0.06"), 50),
        Step(_d("0.05"), 40),
        Step(_d("0.04"), 30),
        Step(_d("0.03"), 20),
        Step(_d("0.02"), 10),
    )
    rd_costs_steps: tuple[Step, ...] = (
        Step(_d("0.30"), 50),
        Step(_d("0.25"), 40),
        Step(_d("0.20"), 30),
        Step(_d("0.15"), 20),
        Step(_d("0.10"), 10),
    )
    ip_class1_points: int = 30
    #: Class II counts at or above each step.
    ip_class2_steps: tuple[Step, ...] = (
        Step(_d(4), 24),
        Step(_d(3), 18),
        Step(_d(2), 12),
        Step(_d(1), 6),
    )


@dataclass(frozen=True)
class Settings:
    """One version of all eligibility settings."""

    hte: HteSettings = field(default_factory=HteSettings)
    tech_sme: TechSmeSettings = field(default_factory=TechSmeSettings)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-ready data (decimals as strings)."""
        return jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Settings":
        """Build settings from stored data; missing keys take the defaults."""
        data = data or {}
        return cls(
            hte=_build(HteSettings, data.get("hte", {})),
            tech_sme=_build(TechSmeSettings, data.get("tech_sme", {})),
        )


DEFAULTS = Settings()

_ITEM_TYPES = {
    "rd_tiers": RdTier,
    "ip_class2_bands": Band,
    "transformation_bands": Band,
    "growth_bands": Band,
    "tech_staff_steps": Step,
    "rd_sales_steps": Step,
    "rd_costs_steps": Step,
    "ip_class2_steps": Step,
}


def _convert(kind: type, value: Any) -> Any:
    if value is None:
        return None
    if kind is Decimal:
        return Decimal(str(value))
    return kind(value)


def _item(kind: type, data: dict[str, Any]):
    hints = {f.name: f.type for f in fields(kind)}
    values = {}
    for name, hint in hints.items():
        raw = data.get(name)
        values[name] = None if raw is None else (int(raw) if hint is int else Decimal(str(raw)))
    return kind(**values)


def _build(kind: type, data: dict[str, Any]):
    defaults = kind()
    values = {}
    for f in fields(kind):
        if f.name not in data:
            continue
        raw = data[f.name]
        current = getattr(defaults, f.name)
        if f.name in _ITEM_TYPES:
            values[f.name] = tuple(_item(_ITEM_TYPES[f.name], item) for item in raw)
        elif isinstance(current, tuple):
            values[f.name] = tuple(int(v) for v in raw)
        elif isinstance(current, Decimal):
            values[f.name] = Decimal(str(raw))
        else:
            values[f.name] = _convert(type(current), raw)
    return kind(**{**{f.name: getattr(defaults, f.name) for f in fields(kind)}, **values})
