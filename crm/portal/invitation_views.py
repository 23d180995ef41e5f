"""Invitations to the portal: the firm's 企业账号 tab and its actions, and the link's landing.

The tab (staff only) lists the firm's enterprise users and invitations; those who may change the
firm invite, resend, revoke and disable there. Each action loads the firm through firms.access:
out of reach answers 404, a read-only role 403; an invitation or user of another firm 404.
A new or resent link is shown once, on the page that answers the action, never in the session.

The landing (`accept`) is open to anyone holding a link: an unknown token answers 404, a link
expired, used or revoked 410 with what to do, a working one the form that opens the account.
"""

from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required

from crm.accounts import invitations as services
from crm.accounts import sessions
from crm.accounts.models import INVITATION_STATUSES
from crm.accounts.services import AccountError
from crm.core import clock
from crm.core.forms import Form
from crm.core.web import tab_url
from crm.extensions import db
from crm.firms.access import get_editable_firm
from crm.firms.views import render_detail
from crm.mail.settings import mail_enabled
from crm.portal.forms import AcceptForm, InvitationForm
from crm.portal.invitations import invitation_link, queue_invitation

TAB = "accounts"


def _show_error(form: Form, error: AccountError) -> None:
    field = form._fields.get(error.field)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


# --- The firm's 企业账号 tab --------------------------------------------------------------------


def accounts_tab_context(firm, invite_form: InvitationForm | None = None) -> dict:
    """Return what the 企业账号 tab shows: the firm's users, its invitations and the form."""
    now = clock.utcnow()
    return {
        "enterprise_users": services.firm_users(firm.id),
        "invitation_rows": [
            (invitation, invitation.status(now))
            for invitation in services.firm_invitations(firm.id)
        ],
        "invitation_statuses": INVITATION_STATUSES,
        "invite_form": invite_form or InvitationForm(formdata=None),
    }


def _refused(firm, form: InvitationForm):
    db.session.rollback()
    return render_detail(firm, TAB, **accounts_tab_context(firm, form)), 400


def _show_link(firm, invitation, token: str, *, again: bool):
    """Queue the e-mail, commit, and show the link once."""
    link = invitation_link(token)
    mailed = queue_invitation(invitation, link, actor=current_user, again=again)
    db.session.commit()
    return render_template(
        "portal/invitation_link.html",
        firm=firm,
        invitation=invitation,
        link=link,
        mailed=mailed,
        mail_on=mail_enabled(),
        again=again,
    )


@login_required
def invite(firm_id: int):
    """Invite a contact of the firm; show the link and whether it was e-mailed."""
    firm = get_editable_firm(current_user, firm_id)
    form = InvitationForm()
    if not form.validate_on_submit():
        return _refused(firm, form)
    try:
        invitation, token = services.create_invitation(
            firm, actor=current_user, email=form.email.data, invitee=form.invitee.data
        )
    except AccountError as error:
        _show_error(form, error)
        return _refused(firm, form)
    return _show_link(firm, invitation, token, again=False)


@login_required
def resend(firm_id: int, invitation_id: int):
    """Give an invitation a new link (the old one stops working) and show it."""
    firm = get_editable_firm(current_user, firm_id)
    invitation = services.firm_invitation(firm.id, invitation_id) or abort(404)
    try:
        token = services.resend(invitation, actor=current_user)
    except AccountError as error:
        db.session.rollback()
        flash(error.message, "warning")
        return redirect(tab_url(firm.id, TAB))
    return _show_link(firm, invitation, token, again=True)


@login_required
def revoke(firm_id: int, invitation_id: int):
    """Revoke an invitation: its link stops working."""
    firm = get_editable_firm(current_user, firm_id)
    invitation = services.firm_invitation(firm.id, invitation_id) or abort(404)
    try:
        services.revoke(invitation)
    except AccountError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        who = invitation.invitee or invitation.email
        flash(f"已撤销对“{who}”的邀请，原链接已失效。", "success")
    return redirect(tab_url(firm.id, TAB))


def _set_active(firm_id: int, user_id: int, is_active: bool):
    firm = get_editable_firm(current_user, firm_id)
    user = services.firm_user(firm.id, user_id) or abort(404)
    services.set_firm_user_active(user, is_active, actor=current_user)
    db.session.commit()
    done = "启用，可以登录" if is_active else "停用，已不能登录"
    flash(f"企业账号“{user.name}（{user.username}）”已{done}。", "success")
    return redirect(tab_url(firm.id, TAB))


@login_required
def user_disable(firm_id: int, user_id: int):
    """Disable an enterprise user of the firm: they can no longer log in."""
    return _set_active(firm_id, user_id, False)


@login_required
def user_enable(firm_id: int, user_id: int):
    """Enable an enterprise user of the firm again."""
    return _set_active(firm_id, user_id, True)


# --- The link's landing ------------------------------------------------------------------------


def accept(token: str):
    """Open the account an invitation offers, then log its new user in."""
    # The address holds the token: never cached, by a browser or a proxy.
    g.no_store = True
    invitation = services.find_invitation(token) or abort(404)
    problem = services.refusal(invitation)
    if problem:
        return _gone(problem)
    if current_user.is_authenticated:
        return render_template("portal/accept.html", invitation=invitation, form=None)
    form = AcceptForm(data={"name": invitation.invitee} if invitation.invitee else None)
    if form.validate_on_submit():
        try:
            user = services.accept(
                invitation,
                username=form.username.data,
                name=form.name.data,
                phone=form.phone.data,
                password=form.password.data,
            )
        except AccountError as error:
            db.session.rollback()
            if error.field == "invitation":
                return _gone(error.message)
            _show_error(form, error)
        else:
            db.session.commit()
            sessions.begin_session(user)
            flash(f"欢迎，{user.name}！“{invitation.firm.name}”的企业账号已开通。", "success")
            return redirect(url_for("portal.home"))
    return render_template("portal/accept.html", invitation=invitation, form=form)


def _gone(message: str):
    return render_template("portal/invitation_gone.html", message=message), 410
