"""Background work of certification, once a day: lapsing expired certificates, and opening the
yearly reports certified firms owe.

A certificate expires at the end of its last valid day; the worker lapses it the next morning
under a lease, so exactly one worker moves the firm and records the transition. Reports are
opened for the year just ended from 1 January, and for firms whose certificate is recorded
later (an imported list) the day after.
"""

from crm.certification.duties import open_due_duties
from crm.certification.services import lapse_expired_certificates
from crm.core import clock
from crm.jobs import registry

DAY = 24 * 60 * 60


@registry.periodic("certification.lapse", seconds=DAY)
def lapse_daily() -> int:
    """Lapse the certificates that expired before today; return how many firms were moved."""
    return sum(1 for lapse in lapse_expired_certificates(clock.today()) if not lapse.refusal)


@registry.periodic("certification.duties", seconds=DAY)
def open_duties_daily() -> int:
    """Open the reports owed for the year just ended; return how many were opened."""
    return open_due_duties(clock.today())
