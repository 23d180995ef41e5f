"""Pure vocabularies and small rules about firms (no Flask, no database)."""

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

#: IP kinds: code → (label, class). Class I and II follow 高企认定工作指引 (domain.md §2.3).
IP_KINDS: dict[str, tuple[str, str]] = {
    "invention": ("发明专利", "I"),
    "plant_variety": ("植物新品种", "I"),
    "crop_variety": ("国家级农作物品种", "I"),
    "new_drug": ("国家新药", "I"),
    "tcm_variety": ("国家一级中药保护品种", "I"),
    "ic_layout": ("集成电路布图设计专有权", "I"),
    "utility_model": ("实用新型专利", "II"),
    "design": ("外观设计专利", "II"),
    "software": ("软件著作权", "II"),
}
CLASS_I_KINDS = frozenset(k for k, (_, cls) in IP_KINDS.items() if cls == "I")
CLASS_II_KINDS = frozenset(k for k, (_, cls) in IP_KINDS.items() if cls == "II")

IP_STATUSES = {"valid": "有效", "pending": "申请中", "expired": "失效"}
ACQUISITION_MODES = {
    "own": "自主研发",
    "transfer": "受让",
    "donation": "受赠",
    "merger": "并购",
    "license": "许可使用",
}

#: Qualification tiers (domain.md §1.3 and the HTE certificate): code → (label, years valid).
TIERS: dict[str, tuple[str, int]] = {
    "hte": ("高新技术企业", 3),
    "tech_sme": ("科技型中小企业", 1),
    "innovative": ("创新型企业", 1),
    "little_giant": ("科技小巨人", 1),
    "srdi": ("专精特新中小企业", 3),
    "gazelle": ("瞪羚企业", 1),
}

#: The kind of a high-tech enterprise certificate (the same code as its tier).
HTE_KIND = "hte"
#: Dated certificates, kept as `Certificate` rows: kind → label.
CERTIFICATE_KINDS = {HTE_KIND: "高新技术企业证书"}
#: How a certificate came to be recorded.
CERTIFICATE_SOURCES = {
    "batch": "认定批次结果",
    "override": "阶段变更（越过门槛）",
    "import": "导入认定名单",
    "manual": "管理员录入",
    #: A tier record from before the certificates table, known by its year alone.
    "migrated": "原资质记录",
}
#: Where a certificate stands now; its validity on a given day is read from its dates.
CERTIFICATE_STATUSES = {
    "valid": "有效",
    "replaced": "已由重新认定取代",
    "lapsed": "已到期",
    "cancelled": "已取消资格",
}
#: Grounds for cancelling a high-tech qualification (domain.md §2.5, 国科发火〔2016〕32号 第十九条).
CANCEL_GROUNDS = {
    "fraud": "申请认定过程中存在严重弄虚作假行为",
    "incident": "发生重大安全、重大质量事故或有严重环境违法行为",
    "unreported_change": "未按期报告与认定条件有关的重大变化",
    "missed_reports": "累计两年未填报年度发展情况报表",
}
_ONE_DAY = timedelta(days=1)

#: The tiers kept as qualifications of a year; the certificates are dated records of their own.
QUALIFICATION_TIERS = {k: v for k, v in TIERS.items() if k not in CERTIFICATE_KINDS}

#: Figures of a year that cannot exceed another: (part, whole, message).
YEAR_PARTS = (
    ("tech_staff", "total_staff", "科技人员数不能超过职工总数"),
    ("domestic_rd_expense", "rd_expense", "境内研发费用不能超过研发费用"),
    ("rd_expense", "total_costs", "研发费用不能超过成本费用总额"),
    ("hightech_revenue", "total_revenue", "高新技术产品（服务）收入不能超过总收入"),
)


def year_problems(values) -> list[tuple[str, str]]:
    """Return (field, message) for each figure of a year (a mapping) that exceeds its whole;
    a figure or whole that is missing is not compared."""
    return [
        (part, message)
        for part, whole, message in YEAR_PARTS
        if values.get(part) is not None
        and values.get(whole) is not None
        and values[part] > values[whole]
    ]


CONTACT_ROLES = ("法定代表人", "总经理", "技术负责人", "财务负责人", "科技项目联系人", "其他")


def primary_contact(contacts: Sequence):
    """Return the firm's primary contact among its contacts in id order: the one marked so,
    else the first one; None when it has none."""
    return next((c for c in contacts if c.is_primary), contacts[0] if contacts else None)


def ip_class(kind: str) -> str | None:
    """Return `I` or `II` for an IP kind."""
    entry = IP_KINDS.get(kind)
    return entry[1] if entry else None


def tier_current_since(tier: str, today: date) -> int:
    """Return the earliest qualification year still in force today for `tier`."""
    return today.year - TIERS[tier][1] + 1


def ratio(numerator, denominator) -> Decimal | None:
    """Return numerator ÷ denominator, or None when either is unknown or the divisor is zero."""
    if numerator is None or denominator is None or not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def net_assets(total_assets, total_liabilities):
    """Return total assets minus total liabilities, or None when either is unknown."""
    if total_assets is None or total_liabilities is None:
        return None
    return total_assets - total_liabilities


def certificate_expiry(issued_on: date) -> date:
    """Return the last day a certificate issued on `issued_on` is valid: 3 years less a day."""
    try:
        return issued_on.replace(year=issued_on.year + 3) - _ONE_DAY
    except ValueError:  # 29 February
        return date(issued_on.year + 3, 3, 1) - _ONE_DAY


def certificate_valid_on(
    issued_on: date, expires_on: date, ended_on: date | None, day: date
) -> bool:
    """Tell whether a certificate was in force on `day` (`ended_on`: the day it ended early)."""
    if ended_on is not None and ended_on <= day:
        return False
    return issued_on <= day <= expires_on


def same_certificate(
    recorded: Sequence[tuple[date, bool]], issued_on: date, estimated: bool
) -> int | None:
    """Return which recorded certificate, given as (issue date, date estimated), one issued on
    `issued_on` is: the one of that day, else one of that year when either date is an estimate."""
    for index, (day, _) in enumerate(recorded):
        if day == issued_on:
            return index
    for index, (day, was_estimated) in enumerate(recorded):
        if day.year == issued_on.year and (estimated or was_estimated):
            return index
    return None
