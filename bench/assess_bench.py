"""Benchmark the daily eligibility scan on a demo database against recomputing every firm.

    .venv/bin/python bench/assess_bench.py --database-url URL [--days 1] [--runs 3]

Takes a database the demo filled (`flask crm demo --firms 100000 --activities 1000000`) and sets
the clock `--days` after the day of its latest stored assessments: one day gives an ordinary
day's scan. Then times, each run in a transaction of its own that is rolled back (the database is
left as it was, so runs can be repeated):

- **scan**: the daily scan, `reassess_due`: find the firms the date may have moved, recompute
  them and store their new rows;
- **every firm**: `refresh_assessments(None)`, recomputing every firm, which is what the daily
  job did before the scan (and what `flask crm assess --all` does).

Prints one line per run with the seconds and the counts, then the best of the runs.
"""

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Parse the arguments, run the phases and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true", help="time the scan only")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url or DATABASE_URL: a database the demo filled")

    from sqlalchemy import func, select

    from crm import create_app
    from crm.core import clock
    from crm.eligibility.models import Assessment
    from crm.eligibility.services import reassess_due, refresh_assessments
    from crm.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context():
        latest = db.session.scalar(select(func.max(Assessment.applied_on)))
        db.session.rollback()
        day = latest + timedelta(days=args.days)
        clock._frozen = datetime.combine(day, day_time(4, 0))
        print(f"latest assessments {latest}; scanning on {day} ({db.engine.dialect.name})")

        phases = {"scan": lambda: reassess_due(day)}
        if not args.skip_full:
            phases["every firm"] = lambda: refresh_assessments(None, day)
        best: dict[str, float] = {}
        for run in range(1, args.runs + 1):
            for name, phase in phases.items():
                started = time.perf_counter()
                outcome = phase()
                seconds = time.perf_counter() - started
                db.session.rollback()
                best[name] = min(best.get(name, seconds), seconds)
                print(f"run {run}: {name}: {seconds:.2f} s ({outcome})")
        for name, seconds in best.items():
            print(f"best of {args.runs}: {name}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
