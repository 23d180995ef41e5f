"""Read-side selects of the dashboard pages: what the filters offer to each user."""

from sqlalchemy import or_, select

from crm.accounts.models import User, user_districts
from crm.core.permissions import is_manager
from crm.extensions import db
from crm.firms.queries import active_managers
from crm.reference.models import District, Park, TechField


def filter_choices(user: User) -> dict[str, list[tuple[int, str]]]:
    """Return the districts, parks, technology fields and managers the filters offer `user`.

    Administrators and bureau heads choose among all of them. A manager, who sees the firms of
    the districts they cover, is offered those districts, their parks, and the managers who
    cover one of them (themselves included); every field.
    """
    fields = [
        (row.id, row.name)
        for row in db.session.execute(
            select(TechField.id, TechField.name).order_by(TechField.sort_order, TechField.id)
        )
    ]
    if not is_manager(user):
        parks = db.session.execute(select(Park.id, Park.name).order_by(Park.name))
        return {
            "districts": district_names(),
            "parks": [(row.id, row.name) for row in parks],
            "tech_fields": fields,
            "managers": active_managers(),
        }
    covered = sorted(user.districts, key=lambda d: (d.sort_order, d.code))
    ids = [d.id for d in covered]
    parks = db.session.execute(
        select(Park.id, Park.name).where(Park.district_id.in_(ids)).order_by(Park.name)
    )
    colleagues = db.session.execute(
        select(User.id, User.name)
        .where(
            User.role == user.role,
            User.is_active.is_(True),
            or_(
                User.id == user.id,
                User.id.in_(
                    select(user_districts.c.user_id).where(user_districts.c.district_id.in_(ids))
                ),
            ),
        )
        .order_by(User.name, User.id)
    )
    return {
        "districts": [(d.id, d.name) for d in covered],
        "parks": [(row.id, row.name) for row in parks],
        "tech_fields": fields,
        "managers": [(row.id, row.name) for row in colleagues],
    }


def district_names() -> list[tuple[int, str]]:
    """Return (id, name) of every district, in the reference data's order."""
    rows = db.session.execute(
        select(District.id, District.name).order_by(District.sort_order, District.code)
    )
    return [(row.id, row.name) for row in rows]
