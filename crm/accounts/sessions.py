"""Login sessions: what one carries, when it ends, and how every copy of it is revoked.

Flask-Login keeps `<user id>:<session token>` in the signed session cookie (`User.get_id`).
The loader accepts it only while the token is still the user's, so replacing the token at
logout or with a new password ends every copy of the cookie, wherever it was taken. The session
also carries when it started and when it was last used, and ends after the idle or the absolute
lifetime of the configuration (`SESSION_IDLE_MINUTES`, `SESSION_MAX_HOURS`).
"""

import hmac
from datetime import datetime

from flask import current_app, g, session
from flask_login import login_user, logout_user

from crm.accounts.models import User
from crm.accounts.rules import session_expired
from crm.core import clock
from crm.extensions import db

STARTED_KEY = "login_started_at"
SEEN_KEY = "login_seen_at"
#: Flask-WTF keeps the secret behind its CSRF tokens in the session under this key.
CSRF_KEY = "csrf_token"
#: Activity is stamped to the minute, which spares a new cookie on every request.
SEEN_PRECISION_SECONDS = 60
_EPOCH = datetime(1970, 1, 1)


def load_user(user_id: str) -> User | None:
    """Return the user of the login session, or None when it is revoked, over or disabled."""
    id_part, _, token = user_id.partition(":")
    user = db.session.get(User, int(id_part)) if id_part.isdigit() else None
    if user is None or not user.is_active or not _same(token, user.session_token):
        session.clear()
        return None
    now = _stamp()
    config = current_app.config
    if session_expired(
        session.get(STARTED_KEY),
        session.get(SEEN_KEY),
        now,
        idle_seconds=config["SESSION_IDLE_MINUTES"] * 60,
        max_seconds=config["SESSION_MAX_HOURS"] * 3600,
    ):
        session.clear()
        return None
    if now - session[SEEN_KEY] >= SEEN_PRECISION_SECONDS:
        session[SEEN_KEY] = now
    return user


def begin_session(user: User) -> None:
    """Log `user` in on this request, with a new CSRF secret and the session's clock started."""
    # A CSRF secret from before the login, which someone else may have planted or seen, ends.
    session.pop(CSRF_KEY, None)
    g.pop(CSRF_KEY, None)
    login_user(user)
    session[STARTED_KEY] = session[SEEN_KEY] = _stamp()


def renew_session(user: User) -> None:
    """Keep this session after the user's token changed (their own new password); end the rest."""
    login_user(user)


def end_session(user: User) -> None:
    """Log out and revoke every session of `user`, this cookie and any copy of it; flush."""
    user.rotate_session_token()
    db.session.flush()
    logout_user()
    session.pop(STARTED_KEY, None)
    session.pop(SEEN_KEY, None)


def _same(token: str, expected: str) -> bool:
    return hmac.compare_digest(token.encode(), expected.encode())


def _stamp() -> int:
    """Return the clock's time in whole seconds since the epoch, as the session stores it."""
    return int((clock.utcnow() - _EPOCH).total_seconds())
