"""Pure rules of high-tech certification (domain.md §2.4–2.6): batches, certificates, duties.

No Flask, no database: dates are passed in. A certificate's expiry and validity are rules of
the certificate record itself (`crm.firms.rules`).
"""

import calendar
import re
from datetime import date

#: `GR` + year + 45 (Guangxi) + 6 digits, e.g. GR202345000123 (domain.md §2.6).
CERTIFICATE_NUMBER = re.compile(r"GR\d{4}45\d{6}")
#: An application still waiting for its batch's outcome.
PENDING_STATUSES = ("submitted", "review")
#: The results staff enter from the provincial list, in the order the bulk form offers them.
RESULTS = {
    "review": "评审/公示中",
    "certified": "已认定",
    "not_certified": "未通过",
    "withdrawn": "撤回",
}
#: Months a certified firm has to report a name or condition-related change (§2.4).
CHANGE_REPORT_MONTHS = 3


def certificate_number_warning(number: str) -> str | None:
    """Return a warning when a certificate number does not look like GR202345000123."""
    if CERTIFICATE_NUMBER.fullmatch(number.strip()):
        return None
    return f"证书编号“{number}”不符合常见格式（GR + 年份 + 45 + 6 位数字），请核对"


def result_target(result: str) -> str:
    """Return the high-tech stage a result moves the firm into (a withdrawal is 未通过)."""
    return "not_certified" if result == "withdrawn" else result


def cohort_label(issued_on: date, expires_on: date) -> str:
    """Return the re-certification cohort of a certificate, e.g. "2023 年认定、2026 年到期"."""
    return f"{issued_on.year} 年认定、{expires_on.year} 年到期"


def days_left(expires_on: date, today: date) -> int:
    """Return the days from today to the last valid day (negative once expired)."""
    return (expires_on - today).days


def lapse_reason(expires_on: date) -> str:
    """Return the reason recorded when an expired certificate lapses."""
    return f"证书有效期至 {expires_on.isoformat()} 已届满，未取得新证书"


def add_months(day: date, months: int) -> date:
    """Return the same day of the month `months` later, clamped to that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def change_report_due(changed_on: date) -> date:
    """Return the last day to report a change made on `changed_on` (three months later)."""
    return add_months(changed_on, CHANGE_REPORT_MONTHS)


def is_overdue(due_on: date, reported_on: date | None, today: date) -> bool:
    """Tell whether a change report is past its deadline and still not reported."""
    return reported_on is None and due_on < today


def batch_problems(
    year: int | None,
    opens_on: date | None,
    closes_on: date | None,
    notice_from: date | None,
    notice_to: date | None,
) -> dict[str, str]:
    """Return what is inconsistent in a batch's dates, as {field: message}."""
    problems: dict[str, str] = {}
    if opens_on and closes_on and closes_on < opens_on:
        problems["closes_on"] = "申报截止日期不能早于申报开始日期"
    if notice_from and notice_to and notice_to < notice_from:
        problems["notice_to"] = "公示结束日期不能早于公示开始日期"
    if year and opens_on and opens_on.year != year:
        problems["year"] = f"年度应与申报开始日期的年份（{opens_on.year}）一致"
    return problems


def batch_window_label(opens_on: date, closes_on: date, today: date) -> str:
    """Return whether a batch is taking applications: 未开始, 申报中 or 已截止."""
    if today < opens_on:
        return "未开始"
    if today > closes_on:
        return "已截止"
    return "申报中"


# --- Duties of a certified firm (§2.4) ----------------------------------------------------------

#: The yearly reports a certified firm files on the national system for the previous year.
DUTY_KINDS = {
    "annual_report": "年度发展情况报表",
    "torch": "火炬统计年报",
}
#: The default deadline of each report, as (month, day) of the year after the one reported; an
#: administrator may set another for a year (`DutyDeadline`).
DEFAULT_DEADLINES = {"annual_report": (5, 31), "torch": (3, 31)}
DUTY_STATUSES = {
    "due": "待填报",
    "overdue": "逾期未报",
    "filed": "已填报",
    "late": "逾期补报",
}
#: Missed annual reports over a certificate's validity that cancel the qualification (§2.5).
MISSED_REPORTS_CANCEL = 2


def default_deadline(kind: str, year: int) -> date:
    """Return the default deadline of the report of `kind` for `year` (in the year after)."""
    month, day = DEFAULT_DEADLINES[kind]
    return date(year + 1, month, day)


def duty_status(due_on: date, filed_on: date | None, today: date) -> str:
    """Return the status of a report: due, overdue, filed, or filed late."""
    if filed_on is not None:
        return "late" if filed_on > due_on else "filed"
    return "overdue" if today > due_on else "due"


def is_missed(due_on: date, filed_on: date | None, today: date) -> bool:
    """Tell whether a report was not filed by its deadline, once the deadline has passed."""
    return duty_status(due_on, filed_on, today) in ("overdue", "late")


def reporting_years(today: date) -> range:
    """Return the years whose reports may be owed on `today`: those that have ended."""
    return range(today.year - 1, today.year)
