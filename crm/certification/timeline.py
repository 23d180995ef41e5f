"""Certification applications and their results on a firm's timeline (时间线 tab).

A source of `crm.firms.timeline`: up to `limit` items after the cursor `key`, newest first.
"""

from datetime import date

from sqlalchemy import and_, select

from crm.certification.models import CertificationApplication
from crm.core.filters import format_date
from crm.eligibility.facts import VERDICT_LABELS
from crm.extensions import db
from crm.firms.timeline_items import Key, TimelineItem, dated_page

RESULT_TITLES = {
    "certified": "认定为高新技术企业",
    "not_certified": "高企认定未通过",
    "withdrawn": "撤回高企认定申报",
    "cancelled": "被取消高企资格",
}


def applications(firm_id: int, key: Key | None, limit: int, today: date) -> list[TimelineItem]:
    """Return the certification applications submitted and their results."""
    c = CertificationApplication
    base = select(c).where(c.firm_id == firm_id)
    decided = and_(c.result_on.is_not(None), c.status.in_(RESULT_TITLES))
    submitted = list(
        db.session.scalars(dated_page(base, c.submitted_on, c.created_at, c.id, 6, key, limit))
    )
    results = list(
        db.session.scalars(
            dated_page(base.where(decided), c.result_on, c.updated_at, c.id, 7, key, limit)
        )
    )
    items = []
    for row in submitted:
        renewal = "（重新认定）" if row.is_renewal else ""
        details = [f"当前结果：{row.status_label}"]
        if row.assessment_verdict:
            verdict = VERDICT_LABELS.get(row.assessment_verdict, row.assessment_verdict)
            details.append(f"申报时预评估结论：{verdict}")
        items.append(
            TimelineItem(
                Key(row.submitted_on, row.created_at, 6, row.id),
                "certification",
                "bi-file-earmark-text",
                f"申报高企认定：{row.batch.label}{renewal}",
                details,
                recorded=("certification_applications", row.id, None),
            )
        )
    for row in results:
        details = []
        if row.status == "certified":
            details.append(f"证书编号：{row.certificate_number or '未填写'}")
            if row.issued_on:
                expires = format_date(row.expires_on)
                details.append(f"发证日期：{format_date(row.issued_on)}，有效期至 {expires}")
        if row.reason:
            details.append(f"原因：{row.reason}")
        items.append(
            TimelineItem(
                Key(row.result_on, row.updated_at, 7, row.id),
                "certification",
                "bi-award" if row.status == "certified" else "bi-file-earmark-x",
                f"{RESULT_TITLES[row.status]}（{row.batch.label}）",
                details,
                recorded=("certification_applications", row.id, row.status),
            )
        )
    return items
