"""The link of an invitation and the e-mail that carries it.

The link is built in the manager's request: from `BASE_URL` (`CRM_BASE_URL`) when it is set,
the address people outside reach the app at, else from the request's own host. The message is
queued in the request's transaction, one per invitation and day: a resend the same day replaces
a message still waiting, or sends again one already sent, with the new link.
"""

from flask import render_template, url_for

from crm.accounts.models import Invitation, User
from crm.core import clock
from crm.extensions import db
from crm.mail.links import link_builder
from crm.mail.outbox import queue_message
from crm.mail.settings import mail_enabled

#: The outbox kind of an invitation's message, one per invitation (and day).
KIND = "invitation:{id}"


def invitation_link(token: str) -> str:
    """Return the absolute link of the invitation landing for `token`."""
    build = link_builder()
    link = build("portal.accept", {"token": token}) if build else None
    return link or url_for("portal.accept", token=token, _external=True)


def subject(invitation: Invitation) -> str:
    """Return the subject of the invitation's e-mail."""
    return f"邀请您开通“{invitation.firm.name}”的企业账号（科技企业培育 CRM）"


def render(invitation: Invitation, link: str, actor: User) -> tuple[str, str]:
    """Return the plain-text and HTML bodies of the invitation's e-mail."""
    context = {
        "invitation": invitation,
        "firm": invitation.firm,
        "actor": actor,
        "link": link,
        "expires_at": clock.to_local(invitation.expires_at),
    }
    text = render_template("emails/invitation.txt", **context)
    html = render_template("emails/invitation.html", **context)
    return text, html


def queue_invitation(
    invitation: Invitation, link: str, *, actor: User, again: bool = False
) -> bool:
    """Queue the e-mail carrying `link` to the invitation's address; tell whether it was.

    Nothing without an address or while e-mail is off. `again` (a resend) puts a message sent
    earlier the same day back in the queue with the new link. Flushes, never commits.
    """
    if not invitation.email or not mail_enabled():
        return False
    text, html = render(invitation, link, actor)
    message = queue_message(
        invitation.email,
        subject(invitation),
        text,
        html,
        kind=KIND.format(id=invitation.id),
        again=again,
    )
    if message is None or message.status != "queued":
        return False
    invitation.sent_at = clock.utcnow()
    db.session.flush()
    return True
