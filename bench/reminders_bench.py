"""Time the daily reminder scan, the bell's count and 今日待办 on the demo data.

    .venv/bin/python bench/reminders_bench.py [--firms 100000] [--repeat 15] [--runs 3]
                                              [--database-url URL] [--existing]

Uses the demo database of `bench/pages_bench.py` (built once into bench/.cache, or in the
PostgreSQL database named by --database-url; --existing takes that database as it is, upgraded
first). The demo ran the scan of the day it was built, so:

- **scan, next day**: the whole daily scan one day after the latest reminders (an ordinary
  day), then **rerun**: the same day again, which must create nothing;
- **scan, 1 January**: the day the certificate rule reminds every firm whose certificate
  expires that year.

Each scan runs `--runs` times in a transaction that is rolled back, so the database is left as it
was; the best run is reported, with what it created and closed. Before them, as each demo role,
the bell's count (`inbox.unread_count`) and the 今日待办 and notification pages are timed at the
server (`--repeat` times after a warm-up), beside a bare baseline in the same run: the login
page, which reads no data.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages_bench import (  # noqa: E402
    USERNAMES,
    db_label,
    flask,
    logged_in,
    percentile,
    postgresql_database,
    sqlite_database,
)

#: The pages timed, with the roles that open them.
PAGES = (
    ("今日待办", "/todo", ("admin", "bureau_head", "manager", "enterprise")),
    ("今日待办, one district", "/todo?district={district}", ("bureau_head",)),
    ("通知中心", "/notifications", ("manager", "enterprise", "bureau_head")),
)


def scan_once(app, day: date) -> tuple[float, int, int]:
    """Run the scan of `day` in a transaction rolled back; return seconds, created, closed."""
    from crm.core import clock
    from crm.extensions import db
    from crm.reminders.scan import scan

    with app.app_context():
        clock._frozen = datetime.combine(day, day_time(1, 0))
        try:
            started = time.perf_counter()
            results = scan(day)
            db.session.flush()
            elapsed = time.perf_counter() - started
        finally:
            db.session.rollback()
            clock._frozen = None
    return elapsed, sum(r.created for r in results), sum(r.closed for r in results)


def time_scans(app, runs: int) -> None:
    """Print the scans' timings: the next ordinary day, its rerun, and 1 January."""
    from sqlalchemy import func, select

    from crm.core import clock
    from crm.extensions import db
    from crm.reminders.models import Reminder
    from crm.reminders.scan import scan

    with app.app_context():
        latest = db.session.scalar(select(func.max(Reminder.created_at)))
        db.session.rollback()
    built_on = clock.to_local(latest).date() if latest else date.today()
    next_day = built_on + timedelta(days=1)
    print("\n| scan | best s | runs s | created | closed |")
    print("|---|---:|---|---:|---:|")
    for label, day in (
        (f"next day ({next_day})", next_day),
        (f"1 January ({built_on.year + 1}-01-01)", date(built_on.year + 1, 1, 1)),
    ):
        timings = [scan_once(app, day) for _ in range(runs)]
        best = min(timings)
        runs_text = ", ".join(f"{t[0]:.2f}" for t in timings)
        print(f"| {label} | {best[0]:.2f} | {runs_text} | {best[1]} | {best[2]} |", flush=True)
    # The rerun: the next day's scan kept, then run again; both rolled back at the end.
    with app.app_context():
        clock._frozen = datetime.combine(next_day, day_time(1, 0))
        try:
            scan(next_day)
            db.session.flush()
            started = time.perf_counter()
            again = scan(next_day)
            db.session.flush()
            elapsed = time.perf_counter() - started
        finally:
            db.session.rollback()
            clock._frozen = None
    created = sum(r.created for r in again)
    print(f"| rerun the same day | {elapsed:.2f} | | {created} | {sum(r.closed for r in again)} |")
    if created:
        raise SystemExit(f"the rerun created {created} reminders: the scan is not idempotent")


def timed(fn, repeat: int) -> list[float]:
    """Call `fn` once to warm up, then `repeat` times; return the milliseconds of each."""
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def time_pages(app, repeat: int) -> None:
    """Print the bell's count and the pages as each role, beside the bare login page."""
    from sqlalchemy import func, select

    from crm.accounts.models import User
    from crm.extensions import db
    from crm.firms.models import Firm
    from crm.reminders import inbox
    from crm.reminders.models import Reminder

    with app.app_context():
        users = {
            role: db.session.scalar(select(User).where(User.username == name))
            for role, name in USERNAMES.items()
        }
        # The district with the most firms: the widest a head narrows the bureau's page to.
        district = db.session.scalar(
            select(Firm.district_id)
            .group_by(Firm.district_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        open_count = db.session.scalar(
            select(func.count()).where(Reminder.closed_at.is_(None), Reminder.done_at.is_(None))
        )
        db.session.expunge_all()
    print(f"open reminders: {open_count}; {repeat} timed calls each after one warm-up")
    print("| what | role | median ms | p95 ms | × baseline |")
    print("|---|---|---:|---:|---:|")
    bare = app.test_client()
    base = statistics.median(timed(lambda: bare.get("/login"), repeat))
    print(f"| baseline: the login page | anonymous | {base:.1f} | | 1.0 |")

    def row(label, role, times):
        median = statistics.median(times)
        print(
            f"| {label} | {role} | {median:.1f} | {percentile(times, 0.95):.1f} "
            f"| {median / base:.1f} |",
            flush=True,
        )

    for role, user in users.items():
        if user is None:
            continue
        with app.test_request_context():
            loaded = db.session.get(User, user.id)
            row("bell count", role, timed(lambda u=loaded: inbox.unread_count(u), repeat))
            db.session.rollback()
    for label, url, roles in PAGES:
        for role in roles:
            user = users.get(role)
            if user is None:
                continue
            client = logged_in(app, user.id)
            address = url.format(district=district)
            response = client.get(address)
            if response.status_code != 200:
                print(f"| {label} | {role} | status {response.status_code} | | |")
                continue
            row(label, role, timed(lambda c=client, a=address: c.get(a), repeat))


def main() -> None:
    """Parse the arguments, build or reuse the database, time the scan and the pages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument(
        "--existing",
        action="store_true",
        help="time the database named by --database-url as it is (upgraded to the head first)",
    )
    args = parser.parse_args()
    if args.existing:
        if not args.database_url:
            parser.error("--existing needs --database-url")
        url = args.database_url
        flask(url, "db", "upgrade")
    elif args.database_url and not args.database_url.startswith("sqlite"):
        url = postgresql_database(args.database_url, args.firms)
    else:
        url = sqlite_database(args.firms, None)

    from crm import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-only",
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
    )
    print(db_label(url), flush=True)
    # The pages first: the scans' rolled-back writes would leave PostgreSQL's visibility map
    # behind until the next vacuum, and the lists read the indexes alone.
    time_pages(app, args.repeat)
    time_scans(app, args.runs)


if __name__ == "__main__":
    main()
