"""Use cases of administration."""

from crm.pipeline.services import seed_programmes
from crm.reference.services import seed_city
from crm.support.services import seed_subsidy_rules


def seed_reference_data(city: str) -> int:
    """Create the missing districts, parks, fields, industries, programmes, subsidy rules."""
    return seed_city(city) + seed_programmes() + seed_subsidy_rules()
