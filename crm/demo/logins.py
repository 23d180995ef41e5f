"""Demo accounts' logins: passwords, the logins file, and detecting a demo already loaded.

Passwords come from `secrets` and are never stored in the repository, only in
`<instance>/demo_logins.txt`.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from crm.accounts.models import ROLES, User
from crm.accounts.rules import password_problem
from crm.core import clock
from crm.extensions import db
from crm.firms.models import Firm

LOGINS_FILE = "demo_logins.txt"
#: The accounts whose logins every run prints, one per role.
SHOWN_USERNAMES = ("admin", "head", "manager1", "firm1")
#: Every demo e-mail address is at this reserved domain (RFC 2606), so no real mail goes out.
DEMO_EMAIL_DOMAIN = "example.com"


@dataclass(frozen=True)
class DemoLogin:
    """A demo account and its generated password."""

    role: str
    username: str
    password: str

    @property
    def role_label(self) -> str:
        """Return the role in Chinese."""
        return ROLES.get(self.role, self.role)


def make_password(username: str = "", name: str = "") -> str:
    """Return a random password that is easy to read and type: `xxxx-xxxx-xxxx` with a digit.

    It passes the password rule for the account with this username and name, as every password
    an administrator sets must.
    """
    while True:
        raw = "".join(ch for ch in secrets.token_urlsafe(24) if ch not in "-_lI1O0o")[:12]
        password = "-".join(raw[i : i + 4] for i in range(0, 12, 4))
        if (
            len(raw) == 12
            and any(ch.isdigit() for ch in raw)
            and any(ch.islower() for ch in raw)
            and any(ch.isupper() for ch in raw)
            and password_problem(password, username=username, name=name) is None
        ):
            return password


def demo_present() -> bool:
    """Tell whether demo data (or any firm) is already there, so the demo is loaded only once."""
    if db.session.scalar(select(Firm.id).limit(1)) is not None:
        return True
    return db.session.scalar(select(User.id).where(User.username.in_(SHOWN_USERNAMES))) is not None


def logins_path(instance_path: str) -> Path:
    """Return where the demo logins are kept."""
    return Path(instance_path) / LOGINS_FILE


def write_logins(path: Path, logins: list[DemoLogin]) -> None:
    """Write the logins to `path`, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# 科技企业培育 CRM 演示账号（flask crm demo 生成，仅供演示，勿用于生产环境）",
        "# 角色代码\t角色\t用户名\t密码",
        *(f"{x.role}\t{x.role_label}\t{x.username}\t{x.password}" for x in logins),
    ]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    path.chmod(0o600)


def read_logins(path: Path) -> list[DemoLogin]:
    """Return the logins kept in `path`, or an empty list when there is no such file."""
    if not path.exists():
        return []
    logins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("#") or len(parts) != 4:
            continue
        logins.append(DemoLogin(parts[0], parts[2], parts[3]))
    return logins


def shown_logins(logins: list[DemoLogin]) -> list[DemoLogin]:
    """Return the first login of each role, in the order admin, head, manager, enterprise."""
    first: dict[str, DemoLogin] = {}
    for login in logins:
        first.setdefault(login.role, login)
    return [first[role] for role in ROLES if role in first]


def _users_named(usernames, *criteria) -> list[User]:
    return list(db.session.scalars(select(User).where(User.username.in_(usernames), *criteria)))


def logins_work(logins: list[DemoLogin]) -> bool:
    """Tell whether every shown login names an existing account with that password."""
    shown = shown_logins(logins)
    if not shown:
        return False
    users = {u.username: u for u in _users_named([x.username for x in shown])}
    return all(x.username in users and users[x.username].check_password(x.password) for x in shown)


def reset_demo_passwords() -> list[DemoLogin]:
    """Give the shown demo accounts new random passwords; flush, never commit.

    Only accounts the demo created (their e-mail is at example.com) are touched, so a real
    administrator who happens to be called `admin` keeps their password.
    """
    users = _users_named(SHOWN_USERNAMES, User.email.like(f"%{DEMO_EMAIL_DOMAIN}"))
    order = {name: n for n, name in enumerate(SHOWN_USERNAMES)}
    logins = []
    for user in sorted(users, key=lambda u: order[u.username]):
        password = make_password(user.username, user.name)
        user.set_password(password)
        user.password_changed_at = clock.utcnow()
        logins.append(DemoLogin(user.role, user.username, password))
    db.session.flush()
    return logins
