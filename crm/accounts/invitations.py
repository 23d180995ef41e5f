"""Invitations of a firm's contacts to the enterprise portal: create, resend, revoke, accept.

The link carries a random token shown once; only its SHA-256 digest is stored. A link works
once and for `INVITATION_DAYS` days (`CRM_INVITATION_DAYS`); resending replaces the token, so
the old link stops working, and revoking ends it. Accepting claims the invitation with one
conditional UPDATE before the account is made, so of two submissions of the same link at once
only one creates a user. Every function here flushes and never commits.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.accounts.models import Invitation, User
from crm.accounts.services import AccountError, create_user, set_user_active
from crm.core import clock
from crm.core.forms import LARGEST_INTEGER
from crm.core.permissions import ENTERPRISE
from crm.extensions import db
from crm.mail.outbox import normalise_address

DEFAULT_DAYS = 7
#: The longest token `find_invitation` looks up; `secrets.token_urlsafe(32)` gives 43 characters.
TOKEN_MAX_LENGTH = 128
#: What the person who opens a link that no longer works is told, by the invitation's state.
REFUSALS = {
    "expired": "该邀请链接已过期。请联系您的服务专员重新发送邀请链接。",
    "accepted": "该邀请链接已被使用，每个链接只能使用一次。"
    "如已开通账号，请直接登录；如需新的邀请链接，请联系您的服务专员。",
    "revoked": "该邀请链接已被撤销。如仍需开通账号，请联系您的服务专员获取新的邀请链接。",
    "void": "该邀请链接已失效。如仍需开通账号，请联系您的服务专员获取新的邀请链接。",
}


def invitation_days() -> int:
    """Return how many days a new or resent invitation link works."""
    return int(current_app.config.get("INVITATION_DAYS") or DEFAULT_DAYS)


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which the token of a link is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token(invitation: Invitation, now: datetime) -> str:
    """Give `invitation` a fresh token and expiry; return the plain token."""
    token = secrets.token_urlsafe(32)
    invitation.token_digest = token_digest(token)
    invitation.expires_at = now + timedelta(days=invitation_days())
    return token


def _clean_email(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email:
        return None
    try:
        return normalise_address(email)
    except ValueError:
        raise AccountError("email", "电子邮箱格式不正确") from None


def create_invitation(
    firm, *, actor: User, email: str | None = None, invitee: str | None = None
) -> tuple[Invitation, str]:
    """Invite a contact of `firm` to open an enterprise account; return the row and the token.

    The token is the only copy of the link: show it once, or send it by e-mail.
    """
    if getattr(firm, "deleted_at", None) is not None:
        raise AccountError("firm", "该企业已删除，不能邀请")
    invitee = " ".join((invitee or "").split()) or None
    email = _clean_email(email)
    if invitee is None and email is None:
        raise AccountError("invitee", "请填写受邀人或电子邮箱")
    if invitee is not None and len(invitee) > 64:
        raise AccountError("invitee", "受邀人不能超过 64 个字符")
    invitation = Invitation(firm_id=firm.id, email=email, invitee=invitee, created_by_id=actor.id)
    token = _new_token(invitation, clock.utcnow())
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def resend(invitation: Invitation, *, actor: User) -> str:
    """Give `invitation` a new token and expiry and return the token; the old link stops working.

    An accepted or revoked invitation is refused: its person has an account, or the bureau ended
    it (invite again instead).
    """
    if invitation.accepted_at is not None:
        raise AccountError("invitation", "该邀请已被接受，无需重新发送")
    if invitation.revoked_at is not None:
        raise AccountError("invitation", "该邀请已撤销，不能重新发送；如仍需邀请，请重新发出邀请")
    token = _new_token(invitation, clock.utcnow())
    db.session.flush()
    return token


def revoke(invitation: Invitation) -> None:
    """End `invitation`: its link stops working. An accepted one is refused (disable the user)."""
    if invitation.accepted_at is not None:
        raise AccountError("invitation", "该邀请已被接受，不能撤销；如需停止其访问，请停用该账号")
    if invitation.revoked_at is None:
        invitation.revoked_at = clock.utcnow()
        db.session.flush()


def find_invitation(token: str | None) -> Invitation | None:
    """Return the invitation whose link carries `token`, whatever its state, or None."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return db.session.scalar(
        select(Invitation).where(Invitation.token_digest == token_digest(token))
    )


def refusal(invitation: Invitation, now: datetime | None = None) -> str | None:
    """Return why the link of `invitation` no longer works, in Chinese, or None if it works."""
    return REFUSALS.get(invitation.status(now or clock.utcnow()))


def accept(
    invitation: Invitation, *, username: str, name: str, phone: str | None, password: str
) -> User:
    """Use the invitation: create the enterprise user of its firm with these details.

    The invitation is claimed first by a conditional UPDATE; a link expired, used, revoked or
    replaced meanwhile (by a submission at the same moment) is refused. On an `AccountError`
    (a weak password, a taken username) the caller rolls back, which releases the claim. The
    new user counts as logged in now: the caller begins their session.
    """
    now = clock.utcnow()
    problem = refusal(invitation, now)
    if problem:
        raise AccountError("invitation", problem)
    table = Invitation.__table__
    claimed = db.session.execute(
        table.update()
        .where(
            table.c.id == invitation.id,
            table.c.token_digest == invitation.token_digest,
            table.c.accepted_at.is_(None),
            table.c.revoked_at.is_(None),
            table.c.expires_at > now,
        )
        .values(accepted_at=now, updated_at=now)
    )
    if claimed.rowcount != 1:
        raise AccountError("invitation", REFUSALS["accepted"])
    user = create_user(
        username=username,
        name=name,
        role=ENTERPRISE,
        password=password,
        email=invitation.email,
        phone=(phone or "").strip() or None,
        firm=invitation.firm,
    )
    user.last_login_at = now
    invitation.accepted_at = now
    invitation.user_id = user.id
    db.session.flush()
    return user


def firm_invitations(firm_id: int) -> list[Invitation]:
    """Return the invitations of a firm, the newest first, with who made them and who accepted."""
    stmt = (
        select(Invitation)
        .where(Invitation.firm_id == firm_id)
        .options(selectinload(Invitation.created_by), selectinload(Invitation.user))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    return list(db.session.scalars(stmt))


def firm_invitation(firm_id: int, invitation_id: int) -> Invitation | None:
    """Return the invitation `invitation_id` if it is one of the firm's, else None."""
    if not 0 < invitation_id <= LARGEST_INTEGER:
        return None
    invitation = db.session.get(Invitation, invitation_id)
    return invitation if invitation is not None and invitation.firm_id == firm_id else None


def firm_users(firm_id: int) -> list[User]:
    """Return the enterprise users of a firm, active ones first, then by name."""
    stmt = (
        select(User)
        .where(User.firm_id == firm_id, User.role == ENTERPRISE)
        .order_by(User.is_active.desc(), User.name, User.id)
    )
    return list(db.session.scalars(stmt))


def firm_user(firm_id: int, user_id: int) -> User | None:
    """Return the user `user_id` if it is an enterprise user of the firm, else None."""
    if not 0 < user_id <= LARGEST_INTEGER:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.role != ENTERPRISE or user.firm_id != firm_id:
        return None
    return user


def set_firm_user_active(user: User, is_active: bool, *, actor: User) -> None:
    """Enable or disable a firm's user; disabling also ends the sessions they hold."""
    set_user_active(user, is_active, actor=actor)
    if not is_active:
        user.rotate_session_token()
        db.session.flush()
