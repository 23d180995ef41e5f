"""Background work of certification: lapsing expired certificates once a day.

A certificate expires at the end of its last valid day; the worker lapses it the next morning
under a lease, so exactly one worker moves the firm and records the transition.
"""

from crm.certification.services import lapse_expired_certificates
from crm.core import clock
from crm.jobs import registry

DAY = 24 * 60 * 60


@registry.periodic("certification.lapse", seconds=DAY)
def lapse_daily() -> int:
    """Lapse the certificates that expired before today; return how many firms were moved."""
    return sum(1 for lapse in lapse_expired_certificates(clock.today()) if not lapse.refusal)
