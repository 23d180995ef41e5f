"""The reminder rules the product knows (domain.md §4, §2.4, §2.5), and their default settings.

Pure: no Flask, no database. What a rule selects is code (`crm.reminders.scan`); when it fires
and whom it tells are settings an administrator edits as versions (`RuleSettings`): on or off,
its offsets in days, whether it also reminds once the date has passed, and its recipients.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: Who a reminder may go to; `owner` is the person a rule's record names (a measure's owner, a
#: visit's follow-up owner), falling back to the firm's account manager.
RECIPIENTS = {
    "manager": "服务专员",
    "owner": "责任人",
    "firm": "企业",
    "bureau_heads": "局领导",
    "admins": "管理员",
}
#: The stored kinds of recipient: a user, or a firm (read by its enterprise users).
USER, FIRM = "user", "firm"
#: Why a reminder was closed.
CLOSE_REASONS = {
    "resolved": "事项已办理",
    "superseded": "已有更新的提醒",
    "expired": "时间已过",
    "disabled": "规则已停用",
    "unaddressed": "规则不再提醒该接收方",
}
#: The period of a reminder sent once the date has passed.
OVERDUE = "overdue"
MAX_OFFSET_DAYS = 3660
#: Placeholders of a link's arguments.
LINK_FIRM, LINK_RECORD = "$firm", "$record"


@dataclass(frozen=True)
class RuleSpec:
    """What a rule is about and how its settings read; the settings' defaults."""

    code: str
    label: str
    #: When it fires, in words, for the rules page.
    when: str
    #: What the offsets count, e.g. 到期前天数; None for a rule without offsets.
    offsets_label: str | None
    offsets: tuple[int, ...]
    recipients: tuple[str, ...]
    allowed: tuple[str, ...]
    #: The kind of record a reminder of this rule is about (its `record_type`).
    record_type: str
    #: Whether the rule can also remind once the date has passed, and does by default.
    overdue: bool | None = None
    #: The certificate rule also reminds on 1 January of the expiry year.
    new_year: bool | None = None
    #: A month and day (MM-DD) the rule fires from each year, and its label.
    month_day: str | None = None
    month_day_label: str | None = None
    #: The page a reminder links to: a Flask endpoint and its arguments, where `LINK_FIRM` and
    #: `LINK_RECORD` stand for the reminder's firm and record (a firm's page gets `firm_id` itself).
    endpoint: str = "firms.detail"
    link: dict[str, Any] = field(default_factory=dict)


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "cert_expiring",
        "高企证书即将到期",
        "到期当年 1 月 1 日，以及到期前若干天；企业已重新申报的不再提醒",
        "到期前天数",
        (180, 90, 30),
        ("manager", "firm"),
        ("manager", "firm", "bureau_heads", "admins"),
        "certificate",
        new_year=True,
        link={"tab": "certification"},
    ),
    RuleSpec(
        "annual_report",
        "高企年度发展情况报表",
        "填报截止日（默认 5 月 31 日）前若干天（默认 5 月 1 日、5 月 20 日、5 月 31 日）；"
        "未标记已填报的，截止次日起提醒逾期",
        "截止前天数",
        (30, 11, 0),
        ("firm", "manager"),
        ("firm", "manager", "bureau_heads", "admins"),
        "duty",
        overdue=True,
        link={"tab": "certification"},
    ),
    RuleSpec(
        "torch_statistics",
        "火炬统计年报",
        "填报截止日（默认 3 月 31 日）前若干天（默认 3 月 1 日、3 月 25 日）",
        "截止前天数",
        (30, 6),
        ("firm",),
        ("firm", "manager", "bureau_heads", "admins"),
        "duty",
        overdue=False,
        link={"tab": "certification"},
    ),
    RuleSpec(
        "application_window",
        "高企认定申报窗口",
        "认定批次开始申报之日，以及申报截止前若干天；提醒服务专员和处于“一企一策辅导”阶段的企业",
        "截止前天数",
        (14, 3),
        ("manager", "firm"),
        ("manager", "firm", "bureau_heads", "admins"),
        "batch",
        endpoint="certification.detail",
        link={"batch_id": LINK_RECORD},
    ),
    RuleSpec(
        "measure_due",
        "辅导措施到期",
        "措施完成时限前若干天及当天；逾期未完成的另行提醒",
        "到期前天数",
        (7, 0),
        ("owner",),
        ("owner", "manager", "bureau_heads", "admins"),
        "measure",
        overdue=True,
        link={"tab": "coaching"},
    ),
    RuleSpec(
        "no_contact",
        "长期未联系",
        "在库企业连续若干天没有走访或其他联系记录",
        "未联系天数",
        (90,),
        ("manager",),
        ("manager", "bureau_heads", "admins"),
        "firm",
        link={"tab": "activities"},
    ),
    RuleSpec(
        "change_report",
        "变更事项报告",
        "记录变更后若干天仍未标记已报告（应在变更后 3 个月内报告）",
        "变更后天数",
        (30,),
        ("manager",),
        ("manager", "firm", "bureau_heads", "admins"),
        "change_report",
        link={"tab": "certification"},
    ),
    RuleSpec(
        "tech_sme_registration",
        "科技型中小企业重新评价入库",
        "每年评价窗口开启之日起，提醒上一年度已入库、本年度尚未入库的企业",
        None,
        (),
        ("firm",),
        ("firm", "manager", "bureau_heads", "admins"),
        "firm",
        month_day="03-01",
        month_day_label="评价窗口开启（月-日）",
        link={"tab": "qualifications"},
    ),
    RuleSpec(
        "listing_subsidy",
        "上市扶持资金可申领",
        "企业达到设有扶持规则的上市后备阶段、扶持台账出现“可申领”记录时",
        None,
        (),
        ("manager",),
        ("manager", "firm", "bureau_heads", "admins"),
        "support_entry",
        link={"tab": "support"},
    ),
    RuleSpec(
        "results_pending",
        "认定结果未录入",
        "认定批次公示期结束后若干天，申报仍处于“已申报”或“评审/公示中”",
        "公示结束后天数",
        (1,),
        ("manager", "bureau_heads"),
        ("manager", "bureau_heads", "admins"),
        "application",
        link={"tab": "certification"},
    ),
    RuleSpec(
        "follow_up_due",
        "走访后续事项到期",
        "走访记录的后续事项时限前若干天及当天；逾期未办结的另行提醒",
        "到期前天数",
        (3, 0),
        ("owner",),
        ("owner", "manager", "bureau_heads", "admins"),
        "activity",
        overdue=True,
        link={"tab": "activities"},
    ),
)
SPECS = {spec.code: spec for spec in RULES}


@dataclass(frozen=True)
class RuleSettings:
    """One version of a rule's settings."""

    enabled: bool
    offsets: tuple[int, ...]
    recipients: tuple[str, ...]
    overdue: bool = False
    new_year: bool = False
    month_day: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as stored (JSON)."""
        data: dict[str, Any] = {
            "offsets": list(self.offsets),
            "recipients": list(self.recipients),
            "overdue": self.overdue,
            "new_year": self.new_year,
        }
        if self.month_day:
            data["month_day"] = self.month_day
        return data

    @classmethod
    def from_dict(cls, spec: RuleSpec, enabled: bool, data: dict[str, Any] | None):
        """Build the settings from stored data; missing keys take the rule's defaults."""
        default = defaults(spec)
        data = data or {}
        return cls(
            enabled=enabled,
            offsets=tuple(int(v) for v in data.get("offsets", default.offsets)),
            recipients=tuple(
                r for r in data.get("recipients", default.recipients) if r in spec.allowed
            ),
            overdue=bool(data.get("overdue", default.overdue)) and spec.overdue is not None,
            new_year=bool(data.get("new_year", default.new_year)) and spec.new_year is not None,
            month_day=data.get("month_day", default.month_day) if spec.month_day else None,
        )


def defaults(spec: RuleSpec) -> RuleSettings:
    """Return the settings a rule is seeded with."""
    return RuleSettings(
        enabled=True,
        offsets=spec.offsets,
        recipients=spec.recipients,
        overdue=bool(spec.overdue),
        new_year=bool(spec.new_year),
        month_day=spec.month_day,
    )


def parse_offsets(text: str) -> tuple[int, ...]:
    """Read offsets typed as numbers separated by commas, spaces or 、; largest first.

    Raise ValueError with a Chinese message on anything else.
    """
    parts = [p for p in re.split(r"[\s,，、;；]+", text or "") if p]
    values = set()
    for part in parts:
        if not part.isdigit():
            raise ValueError(f"“{part}”不是天数：请填写 0 或正整数，以逗号分隔")
        value = int(part)
        if value > MAX_OFFSET_DAYS:
            raise ValueError(f"天数 {value} 过大：不能超过 {MAX_OFFSET_DAYS}")
        values.add(value)
    if not values:
        raise ValueError("请至少填写一个天数")
    return tuple(sorted(values, reverse=True))


def parse_month_day(text: str) -> str:
    """Read a month and day as MM-DD (e.g. 3-1 or 03-01); raise ValueError in Chinese."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*[-－/月.]\s*(\d{1,2})\s*日?\s*", text or "")
    if not match:
        raise ValueError("请按“月-日”填写，例如 03-01")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        date(2001, month, day)  # 29 February is refused: it is not in every year
    except ValueError:
        raise ValueError(f"“{text.strip()}”不是有效的月日") from None
    return f"{month:02d}-{day:02d}"


def month_day_in(year: int, month_day: str) -> date:
    """Return the date of `month_day` (MM-DD) in `year`."""
    month, day = (int(part) for part in month_day.split("-"))
    return date(year, month, day)


def offset_period(days: int) -> str:
    """Return the period of the reminder sent `days` before (or after) a date."""
    return f"d{days}"


def describe_period(period: str, spec: RuleSpec | None = None) -> str:
    """Return a period in Chinese, for lists and the command's output; with the rule's `spec`,
    an offset says what it counts from (到期前 30 天) and a date what it is (no contact since)."""
    if period == OVERDUE:
        return "已逾期"
    if period == "jan1":
        return "到期当年 1 月 1 日"
    if period == "open":
        return "开始申报"
    if period.startswith("d") and period[1:].isdigit():
        counted = spec.offsets_label if spec is not None else None
        if counted and counted.endswith("天数"):
            before = counted[: -len("天数")]
            if period == "d0" and before.endswith("前"):
                return f"{before[:-1]}当天"
            return f"{before} {period[1:]} 天"
        return f"{period[1:]} 天"
    if (
        spec is not None
        and spec.code == "no_contact"
        and re.fullmatch(r"\d{4}-\d{2}-\d{2}", period)
    ):
        return f"自 {period} 起未联系"
    return period
