"""Demo yearly reports: the last three years' reports of the certified firms, mostly filed.

The reports are opened as the daily run opens them. Most firms filed before the deadline, some
a few days late, and a few not at all, so the 高企年报 list and its at-risk firms have something
to show. Drawn from a stream of its own, so adding them changes no other value.
"""

import random
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from crm.certification.duties import open_duties
from crm.certification.models import Duty
from crm.extensions import db

#: Reporting years the demo opens, back from the last one.
YEARS = 3
ON_TIME, LATE = 0.86, 0.06
#: Firms whose reports are marked per round, between checkpoints.
PAGE = 2000


def make_duties(seed: int, today: date, checkpoint: Callable[[], None] | None = None) -> int:
    """Open the demo's reports and mark most of those past their deadline; return how many.

    The reports are marked a page of firms at a time, `checkpoint` called after each page.
    """
    opened = sum(open_duties(year, today) for year in range(today.year - YEARS, today.year))
    rng = random.Random(f"{seed}-duties")
    firm_ids = list(db.session.scalars(select(Duty.firm_id).distinct().order_by(Duty.firm_id)))
    for start in range(0, len(firm_ids), PAGE):
        page = firm_ids[start : start + PAGE]
        duties = db.session.scalars(
            select(Duty)
            .where(Duty.firm_id.between(page[0], page[-1]))
            .order_by(Duty.firm_id, Duty.year, Duty.kind)
        )
        for duty in duties:
            if duty.due_on >= today:
                continue  # still open: the managers mark them as the firms file
            draw = rng.random()
            if draw < ON_TIME:
                duty.filed_on = duty.due_on - timedelta(days=rng.randint(0, 55))
            elif draw < ON_TIME + LATE:
                duty.filed_on = min(today, duty.due_on + timedelta(days=rng.randint(1, 20)))
        db.session.flush()
        if checkpoint is not None:
            checkpoint()
    return opened
