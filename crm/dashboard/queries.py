"""Read-side selects of the dashboard pages: what the filters offer to each user."""

from datetime import date

from sqlalchemy import or_, select

from crm.accounts.models import User, user_districts
from crm.core.permissions import is_manager
from crm.dashboard.filters import years_offered
from crm.dashboard.models import Target
from crm.dashboard.targets import DOUBLING_YEARS, target_values, targets_of
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


def target_years(today: date) -> list[int]:
    """Return the years the targets page offers: those with targets, the dashboard's years and
    the doubling plan's next years, latest first."""
    stored = db.session.scalars(select(Target.year).distinct())
    ahead = range(today.year, today.year + DOUBLING_YEARS + 1)
    return sorted({*stored, *years_offered(today), *ahead}, reverse=True)


def target_grid(year: int) -> dict[tuple[str, int | None], Target]:
    """Return the targets of `year` by (indicator, district id; None for the city)."""
    return {(target.indicator, target.district_id): target for target in targets_of(year)}


def target_exists(year: int, indicator: str, district_id: int | None) -> bool:
    """Tell whether a target is set for the year, indicator and district (None: the city)."""
    return district_id in target_values(year, indicator)
