"""Periodic work under leases: one scheduler runs each periodic function, however many run.

Every worker ticks every periodic function of `crm.jobs.registry`; a lease row per function says
who runs it and until when. Whoever takes an expired lease runs the function and holds the lease
for one period, so the function runs once per period across all processes and machines, and a
restarted worker does not run it again before it is due: the schedule lives in the table,
APScheduler only ticks.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from crm.core import clock
from crm.core.audit import audit_source
from crm.core.database import write_transactions
from crm.extensions import db
from crm.jobs.models import Lease

logger = logging.getLogger(__name__)


def acquire_lease(name: str, holder: str, ttl: timedelta, *, renew: bool = True) -> bool:
    """Take the lease `name` for `ttl` if it is free or expired; tell whether `holder` holds it.

    With `renew`, a holder that already has the lease extends it; without, it waits for the
    expiry like everyone else (a periodic run's lease lasts until the next run is due).
    """
    table = Lease.__table__
    now = clock.utcnow()
    values = {"holder": holder, "expires_at": now + ttl}
    claimable = table.c.expires_at <= now
    if renew:
        claimable = or_(claimable, table.c.holder == holder)
    try:
        with db.engine.begin() as connection:
            taken = connection.execute(
                table.update().where(table.c.name == name, claimable).values(**values)
            )
            if taken.rowcount == 1:
                return True
            if connection.scalar(select(exists().where(table.c.name == name))):
                return False
        with db.engine.begin() as connection:
            connection.execute(table.insert().values(name=name, **values))
        return True
    except IntegrityError:
        return False  # another scheduler created the lease first
    except DBAPIError as error:
        # Typically SQLite busy with a long job's transaction: the next tick tries again.
        logger.info("could not take the lease %s: %s", name, error)
        return False


def _shorten_lease(name: str, holder: str, ttl: timedelta) -> None:
    table = Lease.__table__
    try:
        with db.engine.begin() as connection:
            connection.execute(
                table.update()
                .where(table.c.name == name, table.c.holder == holder)
                .values(expires_at=clock.utcnow() + ttl)
            )
    except DBAPIError:
        logger.exception("could not shorten the lease %s", name)


def run_periodic(name: str, fn: Callable[[], object], every: timedelta, holder: str) -> bool:
    """Run `fn` and commit its work if `every` has passed since its last run anywhere.

    The lease `name` decides: whichever scheduler takes it runs `fn`, the others skip. Tell
    whether `fn` ran and its work was committed. A failed run is retried after five minutes at
    most.
    """
    if not acquire_lease(name, holder, every, renew=False):
        return False
    try:
        with write_transactions(), audit_source("system"):
            fn()
            db.session.commit()
    except Exception:
        db.session.rollback()
        logger.exception("periodic job %s failed", name)
        _shorten_lease(name, holder, min(every, timedelta(minutes=5)))
        return False
    return True
