"""Role checks, in one place: what each role may do, whatever the record.

Roles are the strings of `crm.accounts.models.ROLES`. Which firms a user may reach is decided by
`crm.firms.access`, on top of these.
"""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

ADMIN = "admin"
BUREAU_HEAD = "bureau_head"
MANAGER = "manager"
ENTERPRISE = "enterprise"
#: Roles that see every firm.
READ_ALL_ROLES = frozenset({ADMIN, BUREAU_HEAD})
#: The bureau's own people: everyone but enterprise users.
STAFF_ROLES = frozenset({ADMIN, BUREAU_HEAD, MANAGER})
#: Roles that change firm data (within their reach) and import it; bureau heads only read.
EDITOR_ROLES = frozenset({ADMIN, MANAGER})


def _role(user) -> str | None:
    return getattr(user, "role", None) if user is not None else None


def is_admin(user) -> bool:
    """Tell whether `user` is an administrator."""
    return _role(user) == ADMIN


def is_bureau_head(user) -> bool:
    """Tell whether `user` is a bureau head (局领导)."""
    return _role(user) == BUREAU_HEAD


def is_manager(user) -> bool:
    """Tell whether `user` is an account manager (服务专员)."""
    return _role(user) == MANAGER


def is_enterprise(user) -> bool:
    """Tell whether `user` logs in for a firm of their own."""
    return _role(user) == ENTERPRISE


def sees_all_firms(user) -> bool:
    """Tell whether `user`'s role reads every firm (administrators and bureau heads)."""
    return _role(user) in READ_ALL_ROLES


def is_editor(user) -> bool:
    """Tell whether `user`'s role changes firm data and imports it."""
    return _role(user) in EDITOR_ROLES


def may_override_gates(user) -> bool:
    """Tell whether `user` may move a firm past unmet gate requirements (bureau heads only)."""
    return _role(user) == BUREAU_HEAD


def owns_or_admin(user, owner_id: int | None) -> bool:
    """Tell whether `user` created a record of their own (a job, an import) or administers all."""
    return is_admin(user) or (owner_id is not None and owner_id == getattr(user, "id", None))


#: The predicates templates use to show what a role may do (registered as Jinja globals).
TEMPLATE_PREDICATES = {
    f.__name__: f for f in (is_admin, is_manager, is_enterprise, sees_all_firms, is_editor)
}


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
