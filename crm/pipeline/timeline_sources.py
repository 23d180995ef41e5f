"""The timeline items of a firm's records: stage moves, visits, coaching measures, certification
applications and their results, support entries and their payments.

Each source returns up to `limit` items after the cursor `key`, newest first (see
`timeline_items`); `crm.pipeline.timeline` merges them with the recorded changes.
"""

from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased, joinedload

from crm.certification.models import CertificationApplication
from crm.coaching.models import Activity, CoachingMeasure, CoachingPlan
from crm.core.filters import format_date, format_wan
from crm.eligibility.facts import VERDICT_LABELS
from crm.extensions import db
from crm.firms.models import Firm
from crm.pipeline.models import Stage, StageTransition
from crm.pipeline.timeline_items import (
    Key,
    TimelineItem,
    clip,
    dated_page,
    local_day,
    timed_page,
    user_name_only,
)
from crm.support.models import SupportEntry

ACTIVITY_ICONS = {
    "visit": "bi-person-walking",
    "phone": "bi-telephone",
    "meeting": "bi-people",
    "online": "bi-chat-dots",
}
RESULT_TITLES = {
    "certified": "认定为高新技术企业",
    "not_certified": "高企认定未通过",
    "withdrawn": "撤回高企认定申报",
    "cancelled": "被取消高企资格",
}


def transitions(firm_id: int, key: Key | None, limit: int, today: date) -> list[TimelineItem]:
    """Return the firm's stage moves, the override ones flagged."""
    t = StageTransition
    stmt = (
        select(t)
        .where(t.firm_id == firm_id)
        .options(joinedload(t.to_stage).joinedload(Stage.programme), user_name_only(t.by))
    )
    items = []
    for row in db.session.scalars(dated_page(stmt, t.moved_on, t.at, t.id, 1, key, limit)):
        programme, target = row.to_stage.programme.name, row.to_stage.name
        if row.from_stage is None:
            title = f"加入{programme}（{target}）"
        else:
            title = f"{programme}：{row.from_stage.name} → {target}"
        details = [f"原因：{row.reason}"] if row.reason else []
        if row.document_number or row.document_on:
            label = "证书编号" if row.to_stage.code == "certified" else "文号"
            dated = f"（{format_date(row.document_on)}）" if row.document_on else ""
            details.append(f"{label}：{row.document_number or '未填写'}{dated}")
        if row.is_override:
            details.append(f"越过门槛的理由：{row.override_reason}")
        items.append(
            TimelineItem(
                Key(row.moved_on, row.at, 1, row.id),
                "transition",
                "bi-shield-exclamation" if row.is_override else "bi-signpost-split",
                title,
                details,
                who=row.by.name if row.by else "系统",
                badge="越过门槛" if row.is_override else "",
            )
        )
    return items


def activities(firm_id: int, key: Key | None, limit: int, today: date) -> list[TimelineItem]:
    """Return the firm's visits and other contacts."""
    a = Activity
    stmt = dated_page(
        select(a).where(a.firm_id == firm_id).options(user_name_only(a.created_by)),
        a.occurred_on,
        a.created_at,
        a.id,
        2,
        key,
        limit,
    )
    items = []
    for row in db.session.scalars(stmt):
        notes = (row.notes or "").strip()
        first_line = notes.splitlines()[0] if notes else ""
        title = f"{row.kind_label}：{clip(first_line)}" if first_line else row.kind_label
        details = [f"参加人员：{row.participants}"] if row.participants else []
        if (notes and notes != first_line) or len(first_line) > 40:
            details.append(f"内容：{notes}")
        if row.follow_up:
            due = f"，时限 {format_date(row.follow_up_due_on)}" if row.follow_up_due_on else ""
            done = "已办结" if row.follow_up_done else "未办结"
            details.append(f"后续事项：{row.follow_up}（{done}{due}）")
        items.append(
            TimelineItem(
                Key(row.occurred_on, row.created_at, 2, row.id),
                "activity",
                ACTIVITY_ICONS.get(row.kind, "bi-journal-text"),
                title,
                details,
                who=row.created_by.name if row.created_by else "",
            )
        )
    return items


def measures(firm_id: int, key: Key | None, limit: int, today: date) -> list[TimelineItem]:
    """Return the coaching measures added, overdue on their due date, and done."""
    m = CoachingMeasure
    base = (
        select(m)
        .where(m.firm_id == firm_id)
        .options(joinedload(m.plan).lazyload(CoachingPlan.manager))
    )
    overdue = and_(
        m.due_on <= today,
        m.status != "dropped",
        or_(m.done_on.is_(None), m.done_on > m.due_on),
    )
    queries = (
        timed_page(base, m.created_at, m.id, 3, key, limit),
        dated_page(base.where(overdue), m.due_on, m.created_at, m.id, 4, key, limit),
        dated_page(base.where(m.status == "done"), m.done_on, m.updated_at, m.id, 5, key, limit),
    )
    created, due, done = (list(db.session.scalars(stmt)) for stmt in queries)
    items = []
    for row in created:
        details = [f"{row.plan.year} 年度一企一策方案"]
        details += [f"责任人：{row.owner}"] if row.owner else []
        details += [f"完成时限：{format_date(row.due_on)}"] if row.due_on else []
        items.append(
            TimelineItem(
                Key(local_day(row.created_at), row.created_at, 3, row.id),
                "measure",
                "bi-list-check",
                f"新增辅导措施：{row.title}",
                details,
                at=row.created_at,
                recorded=("coaching_measures", row.id, None),
            )
        )
    for row in due:
        state = f"已于 {format_date(row.done_on)} 完成" if row.done_on else row.status_label
        items.append(
            TimelineItem(
                Key(row.due_on, row.created_at, 4, row.id),
                "measure",
                "bi-alarm",
                f"辅导措施到期：{row.title}",
                [f"到期时未完成，当前：{state}"],
                who=row.owner or "",
                badge="逾期",
            )
        )
    for row in done:
        items.append(
            TimelineItem(
                Key(row.done_on, row.updated_at, 5, row.id),
                "measure",
                "bi-check2-circle",
                f"完成辅导措施：{row.title}",
                [f"结果：{row.result}"] if row.result else [],
                who=row.owner or "",
            )
        )
    return items


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


def support(firm_id: int, key: Key | None, limit: int, today: date) -> list[TimelineItem]:
    """Return the support entries recorded on the ledger and the payments made."""
    s = SupportEntry
    incubated = aliased(Firm)
    granted = list(
        db.session.execute(
            dated_page(
                select(s, incubated.name)
                .outerjoin(incubated, incubated.id == s.related_firm_id)
                .where(s.firm_id == firm_id),
                s.granted_on,
                s.created_at,
                s.id,
                8,
                key,
                limit,
            )
        )
    )
    paid = list(
        db.session.scalars(
            dated_page(
                select(s).where(s.firm_id == firm_id, s.status == "paid"),
                s.paid_on,
                s.updated_at,
                s.id,
                9,
                key,
                limit,
            )
        )
    )
    items = []
    for row, incubated_name in granted:
        amount = f"{format_wan(row.amount)} 万元" if row.amount is not None else "待定"
        details = [f"类型：{row.kind_label}", f"金额：{amount}", f"状态：{row.status_label}"]
        details += [f"在孵企业：{incubated_name}"] if incubated_name else []
        details += [f"文号：{row.document_number}"] if row.document_number else []
        items.append(
            TimelineItem(
                Key(row.granted_on, row.created_at, 8, row.id),
                "support",
                "bi-cash-coin",
                f"记入扶持台账：{row.title or row.kind_label}",
                details,
                recorded=("support_entries", row.id, None),
            )
        )
    for row in paid:
        amount = f"{format_wan(row.amount)} 万元" if row.amount is not None else "金额未填写"
        details = [f"金额：{amount}"] + (
            [f"文号：{row.document_number}"] if row.document_number else []
        )
        items.append(
            TimelineItem(
                Key(row.paid_on, row.updated_at, 9, row.id),
                "support",
                "bi-bank",
                f"扶持资金拨付：{row.title or row.kind_label}",
                details,
                recorded=("support_entries", row.id, "paid"),
            )
        )
    return items
