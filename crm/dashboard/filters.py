"""What the dashboard and the funnel report are narrowed by: a year and the firms' groups.

The same query arguments (`year`, `district_id`, `park_id`, `tech_field_id`, `manager_id`) drive
the dashboard page, its charts' data and the funnel report workbook, so a figure on screen and
the same figure in the downloaded report always agree. The groups narrow the firms within the
user's reach; the year picks the period of the yearly indicators.
"""

from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import ColumnElement

from crm.accounts.models import User
from crm.core.forms import optional_int
from crm.firms.models import Firm

#: The firm columns the group filters compare, by argument name.
GROUP_COLUMNS = {
    "district_id": Firm.district_id,
    "park_id": Firm.park_id,
    "tech_field_id": Firm.tech_field_id,
    "manager_id": Firm.manager_id,
}
#: How many years back and ahead of today the year filter offers.
YEARS_BACK = 6
YEARS_AHEAD = 1


@dataclass(frozen=True)
class DashboardFilters:
    """The year of the yearly indicators and the groups the firms are narrowed to."""

    year: int
    district_id: int | None = None
    park_id: int | None = None
    tech_field_id: int | None = None
    manager_id: int | None = None

    @classmethod
    def from_args(cls, args, today: date) -> "DashboardFilters":
        """Read the filters from query arguments; a missing or unusable value does not filter.

        The year falls back to today's year when absent or outside the offered years.
        """
        year = _positive_int(args.get("year"))
        if year is None or year not in years_offered(today):
            year = today.year
        groups = {name: _positive_int(args.get(name)) for name in GROUP_COLUMNS}
        return cls(year=year, **groups)

    def conditions(self) -> list[ColumnElement[bool]]:
        """Return the conditions on `Firm` that the group filters set."""
        return [
            GROUP_COLUMNS[name] == value
            for name, value in asdict(self).items()
            if name in GROUP_COLUMNS and value is not None
        ]

    def scope(self, user: User) -> list:
        """Return the funnel scope: the firms `user` may see, narrowed by the groups."""
        return [user, *self.conditions()]

    def narrows(self) -> bool:
        """Tell whether a group filter is set."""
        return any(getattr(self, name) is not None for name in GROUP_COLUMNS)

    def args(self, **changes) -> dict[str, int]:
        """Return the filters as query arguments (unset ones left out), with `changes` applied."""
        values = {**asdict(self), **changes}
        return {name: value for name, value in values.items() if value is not None}


def years_offered(today: date) -> list[int]:
    """Return the years the year filter offers, latest first."""
    return list(range(today.year + YEARS_AHEAD, today.year - YEARS_BACK - 1, -1))


def _positive_int(value) -> int | None:
    # optional_int refuses numbers past the databases' integers (an id of 40 nines answered 500).
    number = optional_int(value)
    return number if number is not None and number > 0 else None
