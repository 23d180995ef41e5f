"""Time every list, board and firm tab at the server, as each role, on the demo data.

    .venv/bin/python bench/pages_bench.py [--firms 100000] [--repeat 15] [--database-url URL]
                                          [--database-file PATH] [--only SUBSTRING]
                                          [--existing]

Builds the demo database once (`flask db upgrade` then `flask crm demo --firms N`) and keeps it
in bench/.cache, keyed by the firm count and a hash of crm/demo and the migrations, so a change
to either builds it again. On SQLite each run works on a copy of the cached file. With
--database-url (or DATABASE_URL) naming PostgreSQL, the demo is built in that database, which is
wiped first, and a table there records the key it was built for. --database-file times a copy of
an existing SQLite database instead (it is upgraded to the migrations' head first), and
--existing times the database named by --database-url in place (upgraded first), for instance
one built by `flask crm demo --firms 100000 --activities 1000000`.

Each page is requested through the app in this process (no network), once to warm up and then
--repeat times; the table gives the median and 95th percentile of the time spent handling the
request, the statements each request sent (a SQLAlchemy `before_cursor_execute` listener) and
the size of the answer.
"""

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "bench" / ".cache"
#: The demo accounts timed, by role (see crm/demo/logins.py).
USERNAMES = {"admin": "admin", "bureau_head": "head", "manager": "manager1", "enterprise": "firm1"}
STAFF = ("admin", "bureau_head", "manager")
#: The firm's own pages in the portal, timed as its enterprise user.
PORTAL_PAGES = (
    ("home", "/portal/"),
    ("profile", "/portal/profile"),
    ("years", "/portal/years"),
    ("ip", "/portal/ip"),
    ("requests", "/portal/requests"),
)
MARK_TABLE = "bench_pages_build"


def code_key(firms: int) -> str:
    """Return the cache key: the firm count and a hash of the demo generator and migrations."""
    digest = hashlib.sha256(str(firms).encode())
    for folder in (ROOT / "crm" / "demo", ROOT / "crm" / "migrations" / "versions"):
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{firms}-{digest.hexdigest()[:12]}"


def flask(url: str, *args: str) -> None:
    """Run a `flask --app wsgi` command of this checkout against `url`."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_DEBUG": "1",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True
    )


def sqlite_database(firms: int, source: Path | None) -> str:
    """Return the URL of a fresh copy of the demo database (built once) or of `source`."""
    CACHE.mkdir(parents=True, exist_ok=True)
    if source is None:
        source = CACHE / f"pages-{code_key(firms)}.sqlite"
        if not source.exists():
            for stale in CACHE.glob(f"pages-{firms}-*.sqlite"):
                stale.unlink()
            building = source.with_suffix(".building")
            building.unlink(missing_ok=True)
            print(f"building the {firms}-firm demo database once ({source.name}) …", flush=True)
            flask(f"sqlite:///{building}", "db", "upgrade")
            flask(f"sqlite:///{building}", "crm", "demo", "--firms", str(firms))
            checkpoint(building)
            building.rename(source)
    work = CACHE / "pages-run.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, work)
    url = f"sqlite:///{work}"
    flask(url, "db", "upgrade")
    return url


def checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the database file, so one file is the whole database."""
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def postgresql_database(url: str, firms: int) -> str:
    """Build the demo in the PostgreSQL database `url` unless it holds this code's build."""
    from sqlalchemy import create_engine, inspect, text

    key = code_key(firms)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        built = inspect(conn).has_table(MARK_TABLE) and conn.scalar(
            text(f"SELECT key FROM {MARK_TABLE}")
        )
        if built != key:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    if built != key:
        print(f"building the {firms}-firm demo database once in PostgreSQL …", flush=True)
        flask(url, "db", "upgrade")
        flask(url, "crm", "demo", "--firms", str(firms))
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {MARK_TABLE} (key text)"))
            conn.execute(text(f"INSERT INTO {MARK_TABLE} VALUES (:key)"), {"key": key})
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return url


@dataclass
class Target:
    """A page to time: a label, its address, and the roles that open it."""

    label: str
    url: str
    roles: tuple[str, ...] = STAFF


def targets(app) -> list[Target]:
    """Return the pages to time, with ids, names and codes read from the demo database."""
    from sqlalchemy import func, select

    from crm.accounts.models import User
    from crm.certification.models import Duty
    from crm.extensions import db
    from crm.firms.models import Certificate, Firm, FirmFormerName
    from crm.firms.tabs import visible_tabs
    from crm.pipeline.models import Enrollment, Programme, Stage
    from crm.reference.models import District

    with app.app_context():
        session = db.session
        enterprise = session.scalar(select(User).where(User.username == USERNAMES["enterprise"]))
        own_id = enterprise.firm_id if enterprise else None
        manager = session.scalar(select(User).where(User.username == USERNAMES["manager"]))
        # A firm every staff role reaches: one the manager is assigned, with the most records.
        firm_id = session.scalar(
            select(Firm.id)
            .where(Firm.manager_id == (manager.id if manager else None), Firm.deleted_at.is_(None))
            .order_by(Firm.updated_at.desc())
            .limit(1)
        ) or session.scalar(select(Firm.id).order_by(Firm.id).limit(1))
        firm = session.get(Firm, firm_id)
        former = session.scalar(select(FirmFormerName.name).limit(1))
        district = session.scalar(select(District.id).order_by(District.sort_order).limit(1))
        expiry = session.scalar(select(func.max(func.extract("year", Certificate.expires_on))))
        duty_year = session.scalar(select(func.max(Duty.year)))
        stages = list(
            session.execute(
                select(Programme.code, Stage.code)
                .join(Stage, Stage.programme_id == Programme.id)
                .join(Enrollment, Enrollment.stage_id == Stage.id)
                .where(Enrollment.closed_on.is_(None))
                .group_by(Programme.code, Stage.code)
                .order_by(func.count(Enrollment.id).desc())
            )
        )
        programmes = [code for (code,) in session.execute(select(Programme.code))]
        staff_tabs = list(visible_tabs(True))
    name_word = firm.name[2:5] if firm else "科技"
    code_prefix = firm.uscc[:8] if firm and firm.uscc else "91450"
    found: list[Target] = [Target("firms", "/firms/")]
    for sort in ("name", "established_on", "district", "updated_at"):
        found.append(Target(f"firms sort -{sort}", f"/firms/?sort=-{sort}"))
    found += [
        Target("firms sort updated_at p50", "/firms/?sort=-updated_at&page=50"),
        Target("firms p50", "/firms/?page=50"),
        Target("firms district", f"/firms/?district={district}"),
        Target("firms tier hte", "/firms/?tier=hte"),
        Target("firms search name", f"/firms/?q={name_word}"),
        Target("firms search full name", f"/firms/?q={firm.name if firm else name_word}"),
        Target("firms search former name", f"/firms/?q={former or name_word}"),
        Target("firms search code prefix", f"/firms/?q={code_prefix}"),
        Target("readiness", "/eligibility/"),
        Target("readiness p50", "/eligibility/?page=50"),
        Target("readiness pass", "/eligibility/?verdict=pass"),
        Target("readiness sort -score_max", "/eligibility/?sort=-score_max"),
        Target("readiness sort name", "/eligibility/?sort=name"),
        Target("readiness district", f"/eligibility/?district={district}"),
        Target("cohort", f"/certification/cohort?year={int(expiry or date.today().year)}"),
        Target("cohort p5", f"/certification/cohort?year={int(expiry or 2026)}&page=5"),
        Target("batches", "/certification/"),
        Target("duties", f"/certification/duties?year={duty_year or ''}"),
        Target("duties at risk", "/certification/duties/at-risk"),
        Target("support ledger", "/support/"),
        Target("support ledger p20", "/support/?page=20"),
        Target("imports", "/imports/"),
        Target("dashboard", "/dashboard/", ("bureau_head", "manager")),
        Target("dashboard district", f"/dashboard/?district_id={district}", ("bureau_head",)),
    ]
    for code in programmes:
        found.append(Target(f"board {code}", f"/pipeline/board/{code}"))
    for code, stage in stages[:2]:
        found.append(Target(f"column {code}/{stage}", f"/pipeline/board/{code}/stages/{stage}"))
        found.append(
            Target(f"column {code}/{stage} p10", f"/pipeline/board/{code}/stages/{stage}?page=10")
        )
        after = deep_card(app, code, stage)
        if after is not None:
            query = urlencode({"after": after[0], "after_id": after[1]})
            found.append(
                Target(
                    f"column {code}/{stage} cards after 300",
                    f"/pipeline/board/{code}/stages/{stage}/cards?{query}",
                )
            )
    for tab in staff_tabs:
        found.append(Target(f"firm tab {tab}", f"/firms/{firm_id}?tab={tab}"))
    if own_id is not None:
        for label, url in PORTAL_PAGES:
            found.append(Target(f"portal {label}", url, ("enterprise",)))
    found.append(Target("review queue", "/portal/review", ("admin", "manager")))
    return found


def deep_card(app, code: str, stage: str) -> tuple[str, int] | None:
    """Return the (name, id) of the 300th firm of a board column by name: where the cards
    loaded on scrolling to the tenth screenful begin."""
    from sqlalchemy import select

    from crm.extensions import db
    from crm.firms.models import Firm
    from crm.pipeline.models import Enrollment, Programme, Stage

    with app.app_context():
        row = db.session.execute(
            select(Firm.name, Firm.id)
            .join(Enrollment, Enrollment.firm_id == Firm.id)
            .join(Stage, Stage.id == Enrollment.stage_id)
            .join(Programme, Programme.id == Stage.programme_id)
            .where(Programme.code == code, Stage.code == stage, Enrollment.closed_on.is_(None))
            .order_by(Firm.name, Firm.id)
            .offset(299)
            .limit(1)
        ).first()
    return tuple(row) if row else None


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def run(url: str, repeat: int, only: str | None) -> None:
    """Time every target as each role and print the table."""
    from sqlalchemy import event, select

    from crm import create_app
    from crm.accounts.models import User
    from crm.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-only",
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
    )
    statements = [0]
    with app.app_context():

        def count(*_):
            statements[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        users = {
            role: db.session.scalar(select(User).where(User.username == name))
            for role, name in USERNAMES.items()
        }
        db.session.expunge_all()
    pages = [t for t in targets(app) if not only or re.search(only, t.label)]
    print(f"{db_label(url)}; {repeat} timed requests each after one warm-up", flush=True)
    print("| page | role | median ms | p95 ms | queries | kB |")
    print("|---|---|---:|---:|---:|---:|")
    refused = []
    for target in pages:
        for role in target.roles:
            user = users.get(role)
            if user is None:
                continue
            client = logged_in(app, user.id)
            response = client.get(target.url)
            if response.status_code != 200:
                refused.append(f"{target.label} as {role}: {response.status_code}")
                continue
            times, counts = [], []
            for _ in range(repeat):
                statements[0] = 0
                started = time.perf_counter()
                response = client.get(target.url)
                times.append((time.perf_counter() - started) * 1000)
                counts.append(statements[0])
            size = len(response.get_data()) / 1024
            print(
                f"| {target.label} | {role} | {statistics.median(times):.0f} "
                f"| {percentile(times, 0.95):.0f} | {max(counts)} | {size:.0f} |",
                flush=True,
            )
    for line in refused:
        print(f"not timed (status): {line}")


def logged_in(app, user_id: int):
    """Return a test client whose session is logged in as the user, as the login form does it
    (the session token, the strong session protection's identifier, the session's clock)."""
    from flask import session

    from crm.accounts.models import User
    from crm.accounts.sessions import begin_session
    from crm.extensions import db

    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        begin_session(db.session.get(User, user_id))
        values = dict(session)
    with client.session_transaction() as stored:
        stored.update(values)
    return client


def db_label(url: str) -> str:
    """Return which database the run used, without credentials."""
    from sqlalchemy import create_engine, func, select

    from crm.firms.models import Firm

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        firms = conn.scalar(select(func.count(Firm.id)))
        version = conn.exec_driver_sql(
            "select sqlite_version()" if engine.dialect.name == "sqlite" else "show server_version"
        ).scalar()
    engine.dispose()
    return f"{engine.dialect.name} {version}, {firms} firms"


def main() -> None:
    """Parse the arguments, build or reuse the database, time the pages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--database-file", type=Path, help="time a copy of this SQLite file")
    parser.add_argument("--only", help="time only the pages whose label matches this pattern")
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
        url = sqlite_database(args.firms, args.database_file)
    run(url, args.repeat, args.only)


if __name__ == "__main__":
    main()
