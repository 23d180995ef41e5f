"""The reminder scan as periodic work of the worker, under its lease.

Offered every hour rather than once a day: the scan is idempotent (a rerun creates nothing), so
the day's reminders appear within the hour after midnight whenever the worker started, and a
measure or a follow-up recorded during the day gets its reminder the same day.
"""

from crm.core import clock
from crm.jobs import registry
from crm.reminders.scan import scan

HOUR = 60 * 60


@registry.periodic("reminders.scan", seconds=HOUR)
def scan_periodically() -> int:
    """Make today's reminders and close those that no longer apply; return how many were made."""
    return sum(item.created for item in scan(clock.today()))
