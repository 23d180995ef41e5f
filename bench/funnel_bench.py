"""Time each query behind the dashboard alone, as the demo's bureau head and first manager.

    FLASK_DEBUG=1 .venv/bin/python bench/funnel_bench.py --database-url URL [--runs 3] [--year Y]

Takes a database the demo filled (`flask crm demo`, upgraded to the head) and prints, for each
funnel figure and indicator the dashboard draws, the median time of `--runs` calls in an app
context: the part of the page each one costs.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def dashboard_figures(scope, year: int, today: date) -> dict:
    """Return the dashboard's queries for `scope`, by name, ready to call."""
    from crm.dashboard import funnel, indicators
    from crm.pipeline.rules import HTE, LISTING

    return {
        "firms per stage, high-tech": lambda: funnel.firms_per_stage(HTE, scope=scope),
        "firms per stage, listing": lambda: funnel.firms_per_stage(LISTING, scope=scope),
        "conversion reserve→applied": lambda: funnel.conversion(
            HTE, "reserve", "applied", scope=scope
        ),
        "conversion reserve→certified": lambda: funnel.conversion(
            HTE, "reserve", "certified", scope=scope
        ),
        "median days in stage": lambda: funnel.median_days_in_stage(HTE, scope=scope, today=today),
        "certificates expiring": lambda: funnel.certificates_expiring(
            [year, year + 1], by="district", scope=scope
        ),
        "high-tech enterprises by district": lambda: indicators.hte_count(
            today, by="district", scope=scope
        ),
        "invention patents held": lambda: indicators.invention_patents(today, scope=scope),
        "reserve pool R&D intensity": lambda: indicators.pool_rd_intensity(year, scope=scope),
        "support paid by kind": lambda: indicators.support_paid(year, scope=scope, by_kind=True),
    }


def main() -> None:
    """Parse the arguments and time every figure for each of the two users."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--year", type=int, default=date.today().year)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) names the demo database")
    os.environ["DATABASE_URL"] = args.database_url

    from sqlalchemy import select

    from crm.accounts.models import User
    from crm.app import create_app
    from crm.extensions import db

    year, today = args.year, date.today()
    with create_app().app_context():
        for username in ("head", "manager1"):
            scope = [db.session.scalar(select(User).where(User.username == username))]
            figures = dashboard_figures(scope, year, today)
            for name, figure in figures.items():
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    figure()
                    times.append(time.perf_counter() - started)
                median = statistics.median(times) * 1000
                print(f"{username:9} {name:36} {median:8.1f} ms", flush=True)
                db.session.rollback()


if __name__ == "__main__":
    main()
