"""The addresses of the lists behind the dashboard's figures, narrowed as the dashboard is.

The firm list and the pipeline board take the district, park, field and manager (named without
`_id`); the re-certification cohort only the district and the manager; the support ledger only
the district. Each link carries those of the dashboard's filters its page understands.
"""

from dataclasses import dataclass

from flask import url_for

from crm.dashboard.filters import DashboardFilters


@dataclass(frozen=True)
class Links:
    """The addresses of the lists behind the figures, narrowed as the dashboard is."""

    filters: DashboardFilters

    def _groups(self) -> dict[str, int]:
        # The firm list and the board name their filters without the `_id`.
        f = self.filters
        values = {
            "district": f.district_id,
            "park": f.park_id,
            "tech_field": f.tech_field_id,
            "manager": f.manager_id,
        }
        return {name: value for name, value in values.items() if value is not None}

    def firms(self, **args) -> str:
        """Return the firm list with the dashboard's groups and `args`."""
        return url_for("firms.list", **{**self._groups(), **args})

    def board(self, programme: str, **args) -> str:
        """Return a programme's board with the dashboard's groups and `args`."""
        return url_for("pipeline.board", code=programme, **{**self._groups(), **args})

    def column(self, programme: str, stage: str) -> str:
        """Return one column of a programme's board, with the dashboard's groups."""
        return url_for("pipeline.board_column", code=programme, stage_code=stage, **self._groups())

    def cohort(self, year: int, district_id: int | None) -> str:
        """Return the re-certification cohort expiring in `year` (district, manager kept)."""
        args = {"year": year, "district": district_id, "manager": self.filters.manager_id}
        return url_for("certification.cohort", **{k: v for k, v in args.items() if v is not None})

    def ledger(self, **args) -> str:
        """Return the support ledger with the dashboard's district and `args`."""
        values = {"district": self.filters.district_id, **args}
        return url_for("support.list", **{k: v for k, v in values.items() if v is not None})
