"""The administrator's e-mail page: the outbox's failed and waiting messages, and a test.

It lives with the outbox (like the jobs' pages with the queue) under /admin/mail.
"""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.core import clock
from crm.core.forms import optional_int
from crm.core.permissions import ADMIN, roles_required
from crm.core.web import FORM, POST, add_routes, paginate
from crm.extensions import db
from crm.mail import queries
from crm.mail.forms import TestMailForm
from crm.mail.outbox import queue_message, requeue
from crm.mail.settings import HOW_TO_TURN_ON, smtp_settings

bp = Blueprint("mail", __name__, url_prefix="/admin/mail")
PER_PAGE = 50
TEST_KIND = "test"


@roles_required(ADMIN)
def outbox():
    """Show whether e-mail is on, the failed and waiting messages, and the test form."""
    form = TestMailForm()
    if form.validate_on_submit():
        return _queue_test(form.address.data)
    view = request.args.get("view", "open")
    if view not in queries.VIEWS:
        view = "open"
    page = paginate(queries.unsent(view), optional_int(request.args.get("page")) or 1, PER_PAGE)
    config = current_app.config
    counts = queries.counts_by_status()
    return render_template(
        "mail/outbox.html",
        settings=smtp_settings(),
        how_to_turn_on=HOW_TO_TURN_ON,
        counts=counts,
        view_counts={
            key: sum(counts.get(status, 0) for status in statuses)
            for key, (_, statuses) in queries.VIEWS.items()
        },
        views=queries.VIEWS,
        view=view,
        page=page,
        form=form,
        first_wait_minutes=config["MAIL_RETRY_FIRST_SECONDS"] // 60,
        longest_wait_hours=config["MAIL_RETRY_MAX_SECONDS"] // 3600,
        max_attempts=config["MAIL_MAX_ATTEMPTS"],
    )


@roles_required(ADMIN)
def resend(message_id: int):
    """Put a failed or waiting message back in the queue, to be sent at the sender's next run."""
    if requeue(message_id):
        db.session.commit()
        flash("已重新加入发送队列，后台任务将在一分钟内发送。", "success")
    else:
        flash("这封邮件正在发送或已经发送，未重新加入队列。", "warning")
    view = request.form.get("view")
    return redirect(url_for("mail.outbox", view=view if view in queries.VIEWS else None))


def _queue_test(address: str):
    settings = smtp_settings()
    if settings is None:
        flash("邮件发送未开启，未生成测试邮件。", "warning")
        return redirect(url_for("mail.outbox"))
    now = clock.to_local(clock.utcnow())
    context = {"user": current_user, "settings": settings, "now": now}
    queue_message(
        address,
        "【科技企业培育 CRM】测试邮件",
        render_template("emails/test_message.txt", **context),
        render_template("emails/test_message.html", **context),
        kind=TEST_KIND,
        again=True,
    )
    db.session.commit()
    flash(f"测试邮件已加入发送队列，将发往 {address}；后台任务将在一分钟内发送。", "success")
    return redirect(url_for("mail.outbox", view="queued"))


add_routes(
    bp,
    (
        ("", "outbox", outbox, FORM),
        ("/<int:message_id>/resend", "resend", resend, POST),
    ),
)
