"""The notification centre, 今日待办 and the bell.

今日待办 is every user's home page: an account manager's due and overdue reminders across their
firms, an enterprise user's reminders for their firm, and for bureau heads and administrators the
bureau's, narrowed to a district or a manager. The notification centre lists the user's own
reminders by when they are due, where they mark them read or done or snooze them. Only the
recipient acts on a reminder; a head reviewing the bureau reads.
"""

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from crm.accounts.services import district_choices
from crm.accounts.views import safe_next
from crm.core import clock
from crm.core.forms import optional_int
from crm.core.permissions import is_enterprise, sees_all_firms
from crm.extensions import db
from crm.firms.queries import active_managers
from crm.reminders import inbox, rules
from crm.reminders.forms import ReminderActionForm
from crm.reminders.pages import page_for

bp = Blueprint("reminders", __name__)

ACTIONS = {"read": "已标为已读", "done": "已标为完成", "undone": "已恢复为待办", "snooze": "已推迟"}


def link_for(reminder, user) -> str | None:
    """Return the page to act on `reminder` that `user` may open, or None."""
    page = page_for(reminder, is_enterprise(user))
    if page is None:
        return None
    try:
        return url_for(page[0], **page[1])
    except BuildError:
        return None


@bp.app_context_processor
def bell():
    """Offer the bell's number to every page, computed only when a page shows the bell."""

    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        # Counted once per request, however often the page shows it.
        counted = getattr(request, "reminder_bell", None)
        if counted is None:
            counted = request.reminder_bell = inbox.unread_count(current_user, clock.today())
        return counted

    return {"reminder_bell_count": count, "reminder_link": link_for}


@bp.get("/todo")
@login_required
def today():
    """今日待办: the user's due reminders by kind; the bureau's for heads and administrators."""
    on = clock.today()
    if sees_all_firms(current_user):
        return _bureau(on)
    return render_template(
        "reminders/today.html",
        todo=inbox.todo(current_user, on),
        today=on,
        bureau=False,
    )


def _bureau(on: date):
    district_id = optional_int(request.args.get("district"))
    manager_id = optional_int(request.args.get("manager"))
    bureau = inbox.bureau_todo(on, district_id, manager_id)
    return render_template(
        "reminders/today.html",
        todo=bureau.todo,
        managers=bureau.managers,
        mine=inbox.due_count(current_user, on),
        today=on,
        bureau=True,
        district_id=district_id,
        manager_id=manager_id,
        districts=district_choices(),
        manager_choices=active_managers(),
    )


@bp.get("/notifications")
@login_required
def centre():
    """The user's own reminders grouped by today, this week, later and done."""
    on = clock.today()
    kind = request.args.get("kind")
    kind = kind if kind in rules.SPECS else None
    pages = {
        code: max(optional_int(request.args.get(f"{code}_page")) or 1, 1) for code in inbox.GROUPS
    }
    return render_template(
        "reminders/centre.html",
        groups=inbox.centre(current_user, on, kind, pages),
        kind=kind,
        kinds=[(spec.code, spec.label) for spec in rules.RULES],
        today=on,
        form=ReminderActionForm(),
        snooze_from=on + timedelta(days=1),
        snooze_to=on + timedelta(days=inbox.MAX_SNOOZE_DAYS),
    )


@bp.post("/notifications/<int:reminder_id>/<action>")
@login_required
def act(reminder_id: int, action: str):
    """Mark one of the user's reminders read, done or not done, or snooze it."""
    if action not in ACTIONS:
        abort(404)
    reminder = inbox.reminder_for(current_user, reminder_id)
    if reminder is None:
        abort(404)
    form = ReminderActionForm()
    back = safe_next(request.form.get("next")) or url_for("reminders.centre")
    if not form.validate_on_submit():
        problems = (
            f"{form[name].label.text}：{error}" if name in form else error
            for name, errors in form.errors.items()
            for error in errors
        )
        flash("；".join(problems), "error")
        return redirect(back)
    until = form.until.data if action == "snooze" else None
    if action == "snooze":
        problem = inbox.check_snooze(until, clock.today())
        if problem:
            flash(problem, "error")
            return redirect(back)
    changed = inbox.mark([reminder], action, until)
    db.session.commit()
    if changed:
        message = ACTIONS[action]
        if until is not None:
            message += f"至 {until.isoformat()}"
        flash(f"“{reminder.label}”{message}。", "success")
    else:
        flash("该提醒已关闭或状态未变，未作修改。", "warning")
    return redirect(back)


@bp.post("/notifications/read-all")
@login_required
def read_all():
    """Mark every due reminder of the user read."""
    form = ReminderActionForm()
    if form.validate_on_submit():
        changed = inbox.mark_all_read(current_user, clock.today())
        db.session.commit()
        flash(f"已将 {changed} 条提醒标为已读。", "success")
    return redirect(url_for("reminders.centre"))
