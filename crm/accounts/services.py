"""Use cases on accounts."""

from crm.accounts.models import User
from crm.extensions import db


def load_user(user_id: str) -> User | None:
    """Return the active user with this id, for Flask-Login."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None
