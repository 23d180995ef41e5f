"""Record-level access, in one place: every query that lists or loads firms goes through here.

Admins and bureau heads see every firm; a manager sees the firms of the districts they cover and the
firms assigned to them; an enterprise user sees only their own firm. A firm outside a user's reach
answers 404, never 403, so firm ids do not leak. Bureau heads read but do not edit firm data.
"""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, Select, false, or_, select, true

from crm.accounts.models import User, user_districts
from crm.extensions import db
from crm.firms.models import Firm

READ_ALL_ROLES = frozenset({"admin", "bureau_head"})
STAFF_ROLES = frozenset({"admin", "bureau_head", "manager"})


def firm_scope(user: User) -> ColumnElement[bool]:
    """Return the SQL condition selecting the firms `user` may see."""
    if not user.is_authenticated or not user.is_active:
        return false()
    if user.role in READ_ALL_ROLES:
        return true()
    if user.role == "manager":
        covered = select(user_districts.c.district_id).where(user_districts.c.user_id == user.id)
        return or_(Firm.manager_id == user.id, Firm.district_id.in_(covered))
    if user.role == "enterprise" and user.firm_id is not None:
        return Firm.id == user.firm_id
    return false()


def visible_firms(user: User, *, include_deleted: bool = False) -> Select[tuple[Firm]]:
    """Return a select of the firms `user` may see, soft-deleted ones only for admins who ask."""
    stmt = select(Firm).where(firm_scope(user))
    if not (include_deleted and user.role == "admin"):
        stmt = stmt.where(Firm.deleted_at.is_(None))
    return stmt


def get_visible_firm(user: User, firm_id: int, *, include_deleted: bool = False) -> Firm:
    """Load a firm `user` may see, or answer 404."""
    firm = db.session.scalar(
        visible_firms(user, include_deleted=include_deleted).where(Firm.id == firm_id)
    )
    if firm is None:
        abort(404)
    return firm


def can_edit_firm(user: User, firm: Firm) -> bool:
    """Tell whether `user` may change `firm` and what describes it through the staff pages."""
    if firm.deleted_at is not None or not user.is_authenticated or not user.is_active:
        return False
    if user.role == "admin":
        return True
    if user.role == "manager":
        return firm.manager_id == user.id or firm.district_id in user.district_ids
    return False


def can_create_firm(user: User) -> bool:
    """Tell whether `user` may register new firms."""
    return user.is_authenticated and user.role in {"admin", "manager"}


def get_editable_firm(user: User, firm_id: int) -> Firm:
    """Load a firm `user` may change: 404 when out of sight, 403 when only readable."""
    firm = get_visible_firm(user, firm_id)
    if not can_edit_firm(user, firm):
        abort(403)
    return firm


def roles_required(*roles: str) -> Callable:
    """Restrict a view to logged-in users holding one of `roles`."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
