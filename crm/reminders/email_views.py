"""The user's own page of reminder e-mail: which kinds of reminder reach them by e-mail.

It sits with the user's account (/account/reminder-email, beside the password change) but
lives here, where the rules are: the accounts package comes before the reminders.
"""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from crm.core.permissions import ENTERPRISE, STAFF_ROLES, roles_required
from crm.extensions import db
from crm.mail.settings import mail_enabled
from crm.reminders.email import kinds_for, kinds_off, set_kinds_on
from crm.reminders.forms import EmailChoicesForm

bp = Blueprint("reminder_email", __name__)


@bp.route("/account/reminder-email", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES, ENTERPRISE)
def choices():
    """Show and save the kinds of reminder the logged-in user wants by e-mail, of those that
    can reach them."""
    specs = kinds_for(current_user)
    off = kinds_off(current_user.id)
    form = EmailChoicesForm(specs, data={"kinds": [s.code for s in specs if s.code not in off]})
    if form.validate_on_submit():
        set_kinds_on(current_user.id, form.kinds.data or (), [s.code for s in specs])
        db.session.commit()
        if mail_enabled():
            flash("邮件提醒设置已保存。", "success")
        else:
            flash("邮件提醒设置已保存；邮件发送未开启，开启后按此设置发送。", "warning")
        return redirect(url_for("reminder_email.choices"))
    return render_template(
        "reminders/email_choices.html",
        form=form,
        mail_on=mail_enabled(),
    )
