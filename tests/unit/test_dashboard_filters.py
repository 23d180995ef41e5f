"""The dashboard's filters read from query arguments, and back."""

from datetime import date

from werkzeug.datastructures import MultiDict

from crm.dashboard.filters import DashboardFilters, years_offered

TODAY = date(2026, 12, 3)


def test_the_filters_read_known_values_and_ignore_bad_ones():
    args = MultiDict(
        {"year": "2025", "district_id": "3", "park_id": "x", "manager_id": "-4", "other": "1"}
    )
    filters = DashboardFilters.from_args(args, TODAY)
    assert filters == DashboardFilters(year=2025, district_id=3)
    assert filters.narrows()
    assert filters.args() == {"year": 2025, "district_id": 3}
    assert filters.args(district_id=None, park_id=7) == {"year": 2025, "park_id": 7}
    assert len(filters.conditions()) == 1


def test_the_year_falls_back_to_this_year_outside_the_offered_range():
    assert DashboardFilters.from_args(MultiDict({"year": "1999"}), TODAY).year == 2026
    assert DashboardFilters.from_args(MultiDict(), TODAY).year == 2026
    assert years_offered(TODAY)[0] == 2027 and years_offered(TODAY)[-1] == 2020
    assert not DashboardFilters.from_args(MultiDict(), TODAY).narrows()


def test_ids_past_the_databases_integers_do_not_filter():
    args = MultiDict({"district_id": "9" * 40, "park_id": str(2**31), "manager_id": str(2**31 - 1)})
    assert DashboardFilters.from_args(args, TODAY) == DashboardFilters(
        year=2026, manager_id=2**31 - 1
    )
