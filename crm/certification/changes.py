"""A certified firm's duty to report changes within three months (domain.md §2.4).

However a firm is renamed (its page, the 高企认定 tab, an import), the firms package keeps the old
name searchable and sends `firm_renamed`; when the firm held a valid high-tech certificate on the
day of the change, a change report due three months later is opened here. Staff also record
mergers and changes of business, and mark reports as made. Flushes, never commits.
"""

from datetime import date

from sqlalchemy import select

from crm.certification import rules
from crm.certification.models import CHANGE_KINDS, ChangeReport
from crm.extensions import db
from crm.firms import services as firm_services
from crm.firms.certificates import holds_certificate_on
from crm.firms.models import Firm
from crm.firms.signals import firm_renamed


class ChangeError(ValueError):
    """A change the rules refuse; `field` names the form field, `message` is in Chinese."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


NOT_CERTIFIED = "企业在变更日期未持有有效的高新技术企业证书，无需向认定机构报告"


def rename_firm(firm: Firm, name: str, changed_on: date, today: date) -> ChangeReport | None:
    """Give the firm a new name from `changed_on`; open a change report if it was certified."""
    name = name.strip()
    if not name:
        raise ChangeError("name", "请填写新名称")
    if name == firm.name:
        raise ChangeError("name", "新名称与现名称相同")
    _check_day(changed_on, today)
    firm_services.rename_firm(firm, name, changed_on)
    db.session.flush()
    return db.session.scalar(
        select(ChangeReport)
        .where(
            ChangeReport.firm_id == firm.id,
            ChangeReport.kind == "name",
            ChangeReport.changed_on == changed_on,
        )
        .order_by(ChangeReport.id.desc())
        .limit(1)
    )


@firm_renamed.connect
def _report_rename(firm: Firm, *, old_name: str, changed_on: date) -> ChangeReport | None:
    """Open the report of a name change if the firm was certified on the day of the change."""
    if not holds_certificate_on(firm.id, changed_on):
        return None
    return _open_report(firm, "name", changed_on, f"{old_name} → {firm.name}")


def record_change(
    firm: Firm, kind: str, changed_on: date, description: str, today: date
) -> ChangeReport:
    """Record a merger or business change the certified firm must report within three months."""
    if kind not in CHANGE_KINDS or kind == "name":
        raise ChangeError("kind", "请选择变更类型（名称变更请使用“企业更名”）")
    if not description.strip():
        raise ChangeError("description", "请填写变更内容")
    _check_day(changed_on, today)
    if not holds_certificate_on(firm.id, changed_on):
        raise ChangeError("changed_on", NOT_CERTIFIED)
    report = _open_report(firm, kind, changed_on, description.strip())
    db.session.flush()
    return report


def mark_reported(
    report: ChangeReport, reported_on: date, document_number: str, today: date
) -> ChangeReport:
    """Record that the firm reported the change, on which day and under which document."""
    if reported_on > today:
        raise ChangeError("reported_on", "报告日期不能晚于今天")
    if reported_on < report.changed_on:
        raise ChangeError("reported_on", "报告日期不能早于变更日期")
    report.reported_on = reported_on
    report.document_number = document_number.strip() or None
    db.session.flush()
    return report


def _check_day(changed_on: date, today: date) -> None:
    if changed_on > today:
        raise ChangeError("changed_on", "变更日期不能晚于今天")


def _open_report(firm: Firm, kind: str, changed_on: date, description: str) -> ChangeReport:
    report = ChangeReport(
        firm_id=firm.id,
        kind=kind,
        changed_on=changed_on,
        description=description,
        due_on=rules.change_report_due(changed_on),
    )
    db.session.add(report)
    return report
