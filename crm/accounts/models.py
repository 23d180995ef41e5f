"""User accounts and the login throttle."""

import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from crm.core.models import TimestampMixin
from crm.core.permissions import ADMIN, BUREAU_HEAD, ENTERPRISE, MANAGER, STAFF_ROLES
from crm.extensions import db

ROLES = {
    ADMIN: "系统管理员",
    BUREAU_HEAD: "局领导",
    MANAGER: "服务专员",
    ENTERPRISE: "企业用户",
}

user_districts = Table(
    "user_districts",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, TimestampMixin, db.Model):
    """A person who logs in: staff of the bureau, or a firm's own user."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'bureau_head', 'manager', 'enterprise')", name="role_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The login name, stored in lower case.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64), info={"label": "姓名"})
    email: Mapped[str | None] = mapped_column(String(254), info={"label": "电子邮箱"})
    phone: Mapped[str | None] = mapped_column(String(32), info={"label": "手机号码"})
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), info={"label": "角色"})
    #: The firm an enterprise user belongs to; empty for staff.
    firm_id: Mapped[int | None] = mapped_column(
        ForeignKey("firms.id", ondelete="SET NULL", use_alter=True)
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    #: A random value every login session of the user carries; replacing it ends them all
    #: (logout, a new password).
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: new_session_token())

    districts = relationship(
        "District", secondary=user_districts, order_by="District.code", lazy="selectin"
    )
    firm = relationship("Firm", foreign_keys=[firm_id])

    @property
    def role_label(self) -> str:
        """Return the role in Chinese."""
        return ROLES.get(self.role, self.role)

    @property
    def district_ids(self) -> set[int]:
        """Return the ids of the districts a manager covers."""
        return {d.id for d in self.districts}

    @property
    def is_staff(self) -> bool:
        """Tell whether the user works for the bureau."""
        return self.role in STAFF_ROLES

    def get_id(self) -> str:
        """Return what a login session stores: the id and the session token (Flask-Login)."""
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        """End every login session of the user: the ones they hold carry the old token."""
        self.session_token = new_session_token()

    def set_password(self, password: str) -> None:
        """Store a salted hash of `password` and end the sessions opened with the old one."""
        method = "scrypt"
        if has_app_context():
            method = current_app.config.get("PASSWORD_HASH_METHOD", method)
        self.password_hash = generate_password_hash(password, method=method)
        self.rotate_session_token()

    def check_password(self, password: str) -> bool:
        """Tell whether `password` matches the stored hash."""
        return check_password_hash(self.password_hash, password)


def new_session_token() -> str:
    """Return a fresh random session token."""
    return secrets.token_urlsafe(32)


class LoginThrottle(TimestampMixin, db.Model):
    """Failed logins for one account from one client address, and the lock they caused."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("username", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]


class AccountThrottle(TimestampMixin, db.Model):
    """Failed logins for one account from any address, and how long the next attempt waits."""

    __tablename__ = "account_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The username as typed, normalised; unknown ones are throttled alike.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime]
    #: No attempt at the account is checked before this time.
    wait_until: Mapped[datetime | None]


class AddressThrottle(TimestampMixin, db.Model):
    """Failed logins from one client address at any accounts, and the lock they caused."""

    __tablename__ = "address_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64), unique=True)
    #: Failures since `window_started_at`; an older window starts again from none.
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class Invitation(TimestampMixin, db.Model):
    """An invitation for a firm's contact to open an enterprise account of that firm.

    The link carries a random token that is shown once (on screen, or in the e-mail) and kept
    only as its SHA-256 digest, so neither the database nor its backups hold a working link.
    It is good once and until `expires_at`; resending replaces the token, revoking ends it.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    #: Where the link was sent; empty for a link handed over another way (WeChat).
    email: Mapped[str | None] = mapped_column(String(254), info={"label": "电子邮箱"})
    #: Who the invitation is for, as the manager wrote it (a name, a post).
    invitee: Mapped[str | None] = mapped_column(String(64), info={"label": "受邀人"})
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    firm = relationship("Firm")
    created_by = relationship("User", foreign_keys=[created_by_id])
    user = relationship("User", foreign_keys=[user_id])

    def status(self, now: datetime) -> str:
        """Return `accepted`, `revoked`, `expired`, `void` (its firm was deleted) or `pending`
        at `now`."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.firm.deleted_at is not None:
            return "void"
        return "pending"


#: The states of an invitation, in Chinese.
INVITATION_STATUSES = {
    "pending": "待接受",
    "accepted": "已接受",
    "revoked": "已撤销",
    "expired": "已过期",
    "void": "已失效",
}
