"""Pages of the admin blueprint: the reminder rules, and a new version of a rule's settings.

Like the eligibility settings, a rule's settings are never edited in place: a change is a new
version with an effective date, and the scan of each day uses the version in force that day.
Bureau heads may read the rules; only admins add versions.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from crm.core import clock
from crm.core.permissions import ADMIN, READ_ALL_ROLES, roles_required
from crm.extensions import db
from crm.reminders import rules, services
from crm.reminders.forms import RuleVersionForm
from crm.reminders.models import ReminderRule


def describe(settings: rules.RuleSettings, spec: rules.RuleSpec) -> dict[str, str]:
    """Return a rule's settings in Chinese, for the list."""
    parts = []
    if spec.offsets_label and settings.offsets:
        parts.append(f"{spec.offsets_label}：{'、'.join(str(k) for k in settings.offsets)}")
    if spec.new_year is not None and settings.new_year:
        parts.append("到期当年 1 月 1 日")
    if spec.overdue is not None and settings.overdue:
        parts.append("逾期后再提醒")
    if spec.month_day_label and settings.month_day:
        parts.append(f"{spec.month_day_label}：{settings.month_day}")
    return {
        "timing": "；".join(parts) or "条件满足时",
        "recipients": "、".join(rules.RECIPIENTS[r] for r in settings.recipients),
    }


@roles_required(*READ_ALL_ROLES)
def reminder_rules():
    """List the rules with the settings in force today."""
    today = clock.today()
    items = services.rules_in_force(today)
    rows = [(item, describe(item.settings, item.rule.spec)) for item in items]
    return render_template("admin/reminder_rules.html", rows=rows, as_of=today)


@roles_required(ADMIN)
def reminder_rule_new(rule_id: int):
    """Add a version of a rule's settings, starting from the one in force."""
    rule = db.session.get(ReminderRule, rule_id)
    if rule is None or rule.code not in rules.SPECS:
        abort(404)
    today = clock.today()
    in_force = services.rule_in_force(rule, today)
    form = RuleVersionForm.prefilled(rule.spec, in_force.settings, today)
    if form.validate_on_submit():
        try:
            version = services.create_rule_version(
                rule, form.settings(), form.effective_on.data, form.note.data, current_user
            )
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"已保存“{rule.label}”的新版本（自 {version.effective_on} 起施行）。", "success")
            return redirect(url_for("admin.reminder_rules"))
    return render_template(
        "admin/reminder_rule_new.html",
        rule=rule,
        form=form,
        in_force=in_force,
        versions=services.rule_versions(rule),
        describe=describe,
        as_of=today,
    )
