"""The task lists that can be exported: a coaching plan's measures, and a user's reminders.

Each is written as its page shows it (`crm.core.exports.ListExport`): the measures of one plan
in the plan page's order, and the notification centre's groups one after the other, with the
centre's kind filter but without its pages.
"""

from collections.abc import Iterator

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from crm.accounts.models import User
from crm.coaching.models import CoachingMeasure, CoachingPlan
from crm.core import clock
from crm.core.exports import Column, ListExport, register
from crm.core.forms import optional_int
from crm.extensions import db
from crm.firms.access import visible_firms
from crm.firms.models import Firm
from crm.reminders import inbox, rules
from crm.reminders.models import Reminder
from crm.reports.lists import staff

# --- A coaching plan's measures ------------------------------------------------------------------


def plan_in_reach(user: User, args: MultiDict) -> CoachingPlan | None:
    """Return the plan the `plan` argument names, if its firm is one `user` sees."""
    plan_id = optional_int(args.get("plan"))
    plan = db.session.get(CoachingPlan, plan_id) if plan_id is not None else None
    if plan is None:
        return None
    seen = visible_firms(user).where(Firm.id == plan.firm_id).with_only_columns(Firm.id)
    return plan if db.session.scalar(seen) is not None else None


def _measure_rows(user: User, args: MultiDict) -> Iterator[tuple]:
    plan = plan_in_reach(user, args)
    if plan is None:
        return iter(())
    return ((plan, measure) for measure in plan.measures)


def _count_measures(user: User, args: MultiDict) -> int:
    plan = plan_in_reach(user, args)
    if plan is None:
        return 0
    stmt = select(func.count()).where(CoachingMeasure.plan_id == plan.id)
    return db.session.scalar(stmt) or 0


def _item(read):
    """Read a value off the second element of a row: the measure, or the reminder."""
    return lambda row: read(row[1])


MEASURES = register(
    ListExport(
        name="coaching_measures",
        filename="一企一策措施清单",
        sheet="措施清单",
        columns=(
            Column("firm", "企业名称", "text", 36, lambda row: row[0].firm.name),
            Column("uscc", "统一社会信用代码", "code", 22, lambda row: row[0].firm.uscc),
            Column("year", "方案年度", "count", 10, lambda row: row[0].year),
            Column("title", "措施", "text", 40, _item(lambda m: m.title)),
            Column("owner", "责任人", "text", 14, _item(lambda m: m.owner_label or None)),
            Column("due_on", "完成时限", "date", 12, _item(lambda m: m.due_on)),
            Column("status", "状态", "text", 10, _item(lambda m: m.status_label)),
            Column("result", "结果", "text", 40, _item(lambda m: m.result)),
            Column("done_on", "完成日期", "date", 12, _item(lambda m: m.done_on)),
        ),
        rows=_measure_rows,
        count=_count_measures,
        allowed=staff,
        accepts=lambda user, args: plan_in_reach(user, args) is not None,
    )
)


# --- A user's reminders ----------------------------------------------------------------------


def _kind(args: MultiDict) -> str | None:
    kind = args.get("kind")
    return kind if kind in rules.SPECS else None


def _reminder_rows(user: User, args: MultiDict) -> Iterator[tuple[str, Reminder]]:
    today, kind = clock.today(), _kind(args)
    for group, label in inbox.GROUPS.items():
        stmt = inbox.group_select(user, group, today, kind)
        for reminder in db.session.scalars(stmt).yield_per(1000):
            yield label, reminder


def _count_reminders(user: User, args: MultiDict) -> int:
    today, kind = clock.today(), _kind(args)
    return sum(
        db.session.scalar(
            select(func.count()).select_from(
                inbox.group_select(user, group, today, kind).order_by(None).subquery()
            )
        )
        or 0
        for group in inbox.GROUPS
    )


def reminder_state(reminder: Reminder, today) -> str:
    """Return where a reminder stands, as the notification centre words it."""
    if reminder.done_at is not None:
        return "已完成"
    if reminder.closed_at is not None:
        return f"已关闭：{reminder.closed_reason_label}"
    if reminder.snoozed_until is not None and reminder.snoozed_until > today:
        return f"已推迟至 {reminder.snoozed_until:%Y-%m-%d}"
    return "已读" if reminder.read_at is not None else "未读"


REMINDERS = register(
    ListExport(
        name="reminders",
        filename="提醒事项",
        sheet="提醒事项",
        columns=(
            Column("group", "分组", "text", 16, lambda row: row[0]),
            Column("kind", "提醒事项", "text", 24, _item(lambda r: r.label)),
            Column("firm", "企业", "text", 36, _item(lambda r: r.firm.name if r.firm else None)),
            Column("period", "提醒节点", "text", 18, _item(lambda r: r.period_label)),
            Column("due_on", "期限", "date", 12, _item(lambda r: r.due_on)),
            Column("state", "状态", "text", 22, _item(lambda r: reminder_state(r, clock.today()))),
            Column("created_at", "提醒时间", "datetime", 17, _item(lambda r: r.created_at)),
        ),
        rows=_reminder_rows,
        count=_count_reminders,
        allowed=lambda user: user.is_active,
    )
)
