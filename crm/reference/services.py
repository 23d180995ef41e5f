"""Use cases on reference data."""

from sqlalchemy import select

from crm.extensions import db
from crm.reference.cities import CITIES, TECH_FIELDS
from crm.reference.models import District, Industry, Park, TechField


def seed_city(city: str) -> int:
    """Create the missing districts, parks, fields and industries of `city`; return how many."""
    data = CITIES[city]
    created = 0
    existing = set(db.session.scalars(select(District.code)))
    for order, (code, name, legacy, aliases) in enumerate(data["districts"]):
        if code not in existing:
            prefixed = [data["name"] + name, data["name"].removesuffix("市") + name]
            db.session.add(
                District(
                    code=code,
                    name=name,
                    legacy_codes=list(legacy),
                    aliases=[*aliases, *prefixed],
                    sort_order=order,
                )
            )
            created += 1
    db.session.flush()
    parks = set(db.session.scalars(select(Park.name)))
    for name, district_code in data["parks"]:
        if name not in parks:
            district = (
                db.session.scalar(select(District).filter_by(code=district_code))
                if district_code
                else None
            )
            db.session.add(Park(name=name, district=district))
            created += 1
    fields = set(db.session.scalars(select(TechField.code)))
    for order, (code, name) in enumerate(TECH_FIELDS):
        if code not in fields:
            db.session.add(TechField(code=code, name=name, sort_order=order))
            created += 1
    industries = set(db.session.scalars(select(Industry.name)))
    names = [(name, True) for name in data["key_industries"]]
    names += [(name, False) for _, name in TECH_FIELDS]
    for order, (name, is_key) in enumerate(names):
        if name not in industries:
            db.session.add(Industry(name=name, is_key=is_key, sort_order=order))
            industries.add(name)
            created += 1
    db.session.flush()
    return created
