"""Use cases on accounts: logging in with a lockout, changing passwords, administering users.

Every function here flushes and never commits; the view or command that calls it commits once.
"""

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from crm.accounts.models import ROLES, AccountThrottle, AddressThrottle, LoginThrottle, User
from crm.accounts.rules import account_wait_minutes, password_problem
from crm.core import clock
from crm.core.permissions import ENTERPRISE, MANAGER
from crm.extensions import db
from crm.reference.models import District

BAD_CREDENTIALS = "用户名或密码错误"
USERNAME_PATTERN = re.compile(r"[a-z0-9_.-]{3,64}")
USERNAME_RULE = "用户名须为 3–64 位小写字母、数字或 _ . -"
# Checked when the username is unknown, so that a miss costs about as much time as a wrong password.
_dummy_hashes: dict[str, str] = {}


class AccountError(ValueError):
    """A request that breaks an account rule; `field` names the form field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalize_username(username: str | None) -> str:
    """Return the username as stored and compared: trimmed and lower-cased."""
    return (username or "").strip().lower()


# --- Login and lockout -------------------------------------------------------------------------


def authenticate(username: str, password: str, address: str) -> tuple[User | None, str | None]:
    """Check a login attempt from `address`; return the user, or None and the message to show.

    Three throttles hold failures back: one per account and address (a lock after a few), one
    per account from any address (a wait that grows with each further failure) and one per
    address at any accounts (a lock after many). While one holds, the password is not checked.
    """
    name = normalize_username(username)[:64]
    address = (address or "unknown")[:64]
    now = clock.utcnow()
    by_address = _address_throttle(address, now)
    if by_address is not None and by_address.locked_until is not None:
        return None, _address_message(by_address.locked_until, now)
    throttle = db.session.scalar(select(LoginThrottle).filter_by(username=name, address=address))
    if throttle is not None and throttle.locked_until is not None:
        if throttle.locked_until > now:
            return None, _locked_message(throttle.locked_until, now)
        throttle.failures = 0
        throttle.locked_until = None
    by_account = _account_throttle(name, now)
    waiting = by_account.wait_until if by_account is not None else None
    if waiting is not None and waiting > now:
        return None, _wait_message(waiting, now)
    user = db.session.scalar(select(User).where(func.lower(User.username) == name))
    if _password_matches(user, password) and user.is_active:
        for row in (throttle, by_account):
            if row is not None:
                db.session.delete(row)
        user.last_login_at = now
        db.session.flush()
        return user, None
    messages = [
        _record_failure(throttle, name, address, now),
        _record_account_failure(by_account, name, now),
        _record_address_failure(by_address, address, now),
    ]
    db.session.flush()
    return None, next((m for m in messages if m), BAD_CREDENTIALS)


def _password_matches(user: User | None, password: str) -> bool:
    if user is None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        if method not in _dummy_hashes:
            _dummy_hashes[method] = generate_password_hash("not-a-password", method=method)
        check_password_hash(_dummy_hashes[method], password)
        return False
    return user.check_password(password)


def _account_throttle(name: str, now: datetime) -> AccountThrottle | None:
    """Return the account's throttle, its failures forgotten after a quiet spell."""
    row = db.session.scalar(select(AccountThrottle).filter_by(username=name))
    forget = timedelta(hours=current_app.config["LOGIN_ACCOUNT_FORGET_HOURS"])
    if row is not None and row.last_failed_at <= now - forget:
        row.failures = 0
        row.wait_until = None
    return row


def _address_throttle(address: str, now: datetime) -> AddressThrottle | None:
    """Return the address's throttle, starting a new window when the old one has passed."""
    row = db.session.scalar(select(AddressThrottle).filter_by(address=address))
    if row is None:
        return None
    if row.locked_until is not None and row.locked_until <= now:
        row.locked_until = None
        row.failures = 0
        row.window_started_at = now
    window = timedelta(minutes=current_app.config["LOGIN_ADDRESS_WINDOW_MINUTES"])
    if row.locked_until is None and row.window_started_at <= now - window:
        row.failures = 0
        row.window_started_at = now
    return row


def _record_failure(
    throttle: LoginThrottle | None, name: str, address: str, now: datetime
) -> str | None:
    if throttle is None:
        throttle = LoginThrottle(username=name, address=address, failures=0)
        db.session.add(throttle)
    throttle.failures += 1
    if throttle.failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        throttle.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        return _locked_message(throttle.locked_until, now)
    return None


def _record_account_failure(row: AccountThrottle | None, name: str, now: datetime) -> str | None:
    if row is None:
        row = AccountThrottle(username=name, failures=0)
        db.session.add(row)
    row.failures += 1
    row.last_failed_at = now
    config = current_app.config
    minutes = account_wait_minutes(
        row.failures,
        free_failures=config["LOGIN_ACCOUNT_FREE_FAILURES"],
        first_wait=config["LOGIN_ACCOUNT_FIRST_WAIT_MINUTES"],
        longest_wait=config["LOGIN_ACCOUNT_MAX_WAIT_MINUTES"],
    )
    row.wait_until = now + timedelta(minutes=minutes) if minutes else None
    return _wait_message(row.wait_until, now) if minutes else None


def _record_address_failure(row: AddressThrottle | None, address: str, now: datetime) -> str | None:
    if row is None:
        row = AddressThrottle(address=address, failures=0, window_started_at=now)
        db.session.add(row)
    row.failures += 1
    if row.failures >= current_app.config["LOGIN_ADDRESS_MAX_FAILURES"]:
        row.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        return _address_message(row.locked_until, now)
    return None


def _minutes_until(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def _locked_message(locked_until: datetime, now: datetime) -> str:
    minutes = _minutes_until(locked_until, now)
    return f"登录失败次数过多，该账号已被锁定，请在 {minutes} 分钟后再试。"


def _wait_message(wait_until: datetime, now: datetime) -> str:
    minutes = _minutes_until(wait_until, now)
    return f"该账号近来登录失败次数过多，每次失败后须等待更久，请在 {minutes} 分钟后再试。"


def _address_message(locked_until: datetime, now: datetime) -> str:
    minutes = _minutes_until(locked_until, now)
    return f"您所在的网络地址登录失败次数过多，已暂停登录，请在 {minutes} 分钟后再试。"


def clear_login_throttles(username: str) -> None:
    """Forget the failed logins, locks and waits of `username` from every address."""
    name = normalize_username(username)
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == name))
    db.session.execute(delete(AccountThrottle).where(AccountThrottle.username == name))


# --- Passwords ---------------------------------------------------------------------------------


def _set_password(user: User, password: str, field: str = "password") -> None:
    problem = password_problem(password, username=user.username, name=user.name)
    if problem:
        raise AccountError(field, problem)
    user.set_password(password)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Replace the user's password after checking the current one."""
    if not user.check_password(current_password):
        raise AccountError("current_password", "当前密码不正确")
    if current_password == new_password:
        raise AccountError("new_password", "新密码不能与当前密码相同")
    _set_password(user, new_password, field="new_password")
    user.password_changed_at = clock.utcnow()
    db.session.flush()


# --- User administration -----------------------------------------------------------------------


def district_choices() -> list[tuple[int, str]]:
    """Return the districts as (id, name) pairs in their display order."""
    rows = db.session.execute(
        select(District.id, District.name).order_by(District.sort_order, District.code)
    )
    return [(row.id, row.name) for row in rows]


def districts_by_id(ids: Iterable[int]) -> list[District]:
    """Return the districts with these ids."""
    ids = list(ids)
    if not ids:
        return []
    return list(db.session.scalars(select(District).where(District.id.in_(ids))))


def districts_by_code(codes: Iterable[str]) -> list[District]:
    """Return the districts with these administrative codes; refuse an unknown code."""
    codes = [code.strip() for code in codes if code.strip()]
    found = {
        d.code: d for d in db.session.scalars(select(District).where(District.code.in_(codes)))
    }
    missing = [code for code in codes if code not in found]
    if missing:
        raise AccountError("districts", f"未找到县（市、区）代码：{'、'.join(missing)}")
    return [found[code] for code in dict.fromkeys(codes)]


def _check_links(role: str, firm) -> None:
    if role not in ROLES:
        raise AccountError("role", "未知的角色")
    if role == ENTERPRISE and firm is None:
        raise AccountError("firm", "企业用户必须关联一家企业")
    if role != ENTERPRISE and firm is not None:
        raise AccountError("firm", "只有企业用户可以关联企业")


def create_user(
    *,
    username: str,
    name: str,
    role: str,
    password: str,
    email: str | None = None,
    phone: str | None = None,
    districts: Iterable[District] = (),
    firm=None,
    is_active: bool = True,
) -> User:
    """Create an account; refuse a malformed or taken username and a weak password."""
    username = normalize_username(username)
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError("username", USERNAME_RULE)
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        raise AccountError("username", f"用户名 {username} 已存在")
    if not (name or "").strip():
        raise AccountError("name", "请填写姓名")
    _check_links(role, firm)
    user = User(
        username=username,
        name=name.strip(),
        role=role,
        email=email or None,
        phone=phone or None,
        firm=firm,
        is_active=is_active,
    )
    _set_password(user, password)
    user.districts = list(districts) if role == MANAGER else []
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    actor: User,
    name: str,
    role: str,
    email: str | None = None,
    phone: str | None = None,
    districts: Iterable[District] = (),
    firm=None,
    is_active: bool = True,
    password: str | None = None,
) -> None:
    """Change an account's details; an administrator cannot lock themself out."""
    if user.id == actor.id and not is_active:
        raise AccountError("is_active", "不能停用自己的账号")
    if user.id == actor.id and role != user.role:
        raise AccountError("role", "不能修改自己的角色")
    if not (name or "").strip():
        raise AccountError("name", "请填写姓名")
    _check_links(role, firm)
    user.name = name.strip()
    user.role = role
    user.email = email or None
    user.phone = phone or None
    user.firm = firm
    user.is_active = is_active
    user.districts = list(districts) if role == MANAGER else []
    if password:
        _set_password(user, password)
        # A password set by an administrator also lifts any login lock on the account.
        clear_login_throttles(user.username)
    db.session.flush()


def set_user_active(user: User, is_active: bool, *, actor: User) -> None:
    """Enable or disable an account; an administrator cannot disable themself."""
    if user.id == actor.id and not is_active:
        raise AccountError("is_active", "不能停用自己的账号")
    user.is_active = is_active
    db.session.flush()
