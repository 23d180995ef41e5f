"""The subsidy rules pages: the versions of each event's rule, a new rule, a new version.

A rule is never rewritten: a change is a new version with a later effective date, and entries
already granted keep the amount they copied. Bureau heads may read the list; only admins change it.
"""

from flask import flash, redirect, render_template, request, url_for

from crm.core import clock
from crm.core.permissions import ADMIN, READ_ALL_ROLES, roles_required
from crm.extensions import db
from crm.support import queries, services
from crm.support.forms import RuleForm
from crm.support.rules import EVENT_KINDS, RULE_EVENTS


def _rules_url():
    return url_for("support.rules")


@roles_required(*READ_ALL_ROLES)
def rules():
    """List each event's rule versions and the one in force today."""
    today = clock.today()
    return render_template("support/rules.html", events=queries.rules_by_event(today), as_of=today)


@roles_required(ADMIN)
def rule_new():
    """Add a subsidy rule; `?event=` preselects the event and its usual kind."""
    form = RuleForm()
    event = request.args.get("event")
    if not form.is_submitted() and event in RULE_EVENTS:
        form.event.data, form.kind.data = event, EVENT_KINDS[event]
        form.effective_from.data = clock.today()
    if form.validate_on_submit():
        try:
            rule = services.create_rule(form.values())
        except services.SupportError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"已添加扶持规则“{rule.name}”。", "success")
            return redirect(_rules_url())
    return render_template("support/rule_form.html", form=form, rule=None)


@roles_required(ADMIN)
def rule_revise(rule_id: int):
    """Record a new version of a rule taking effect later, prefilled from this one."""
    rule = queries.get_rule(rule_id)
    form = RuleForm.revising(rule, clock.today())
    if form.validate_on_submit():
        try:
            version = services.revise_rule(rule, form.values())
        except services.SupportError as error:
            form.effective_from.errors.append(str(error))
        else:
            db.session.commit()
            start = version.effective_from.isoformat()
            flash(f"已保存“{version.name}”的新版本，自 {start} 起施行。", "success")
            return redirect(_rules_url())
    return render_template("support/rule_form.html", form=form, rule=rule)


@roles_required(ADMIN)
def rule_toggle(rule_id: int):
    """Switch a rule version off, or on again."""
    rule = queries.get_rule(rule_id)
    services.set_rule_active(rule, not rule.is_active)
    db.session.commit()
    state = "启用" if rule.is_active else "停用"
    flash(f"已{state}扶持规则“{rule.name}”（自 {rule.effective_from.isoformat()} 起）。", "success")
    return redirect(_rules_url())
