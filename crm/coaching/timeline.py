"""Visits and coaching measures on a firm's timeline (时间线 tab).

Sources of `crm.firms.timeline`: each returns up to `limit` items after the cursor `key`, newest
first.
"""

from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from crm.coaching.models import Activity, CoachingMeasure, CoachingPlan
from crm.core.filters import format_date
from crm.extensions import db
from crm.firms.timeline_items import (
    Key,
    TimelineItem,
    clip,
    dated_page,
    local_day,
    timed_page,
    user_name_only,
)

ACTIVITY_ICONS = {
    "visit": "bi-person-walking",
    "phone": "bi-telephone",
    "meeting": "bi-people",
    "online": "bi-chat-dots",
}


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
