"""The weekly digest as periodic work of the worker, under its lease.

Offered every quarter of an hour: the digest goes out within 15 minutes of `DIGEST_HOUR` on
Monday, and a run that finds every bureau head served costs two small selects (see
`crm.dashboard.digest`).
"""

from crm.dashboard.digest import queue_digests
from crm.jobs import registry

EVERY_SECONDS = 15 * 60


@registry.periodic("dashboard.digest", seconds=EVERY_SECONDS)
def queue_digests_periodically() -> int:
    """Queue the week's digest to the bureau heads who have not got it; return how many."""
    return queue_digests()
