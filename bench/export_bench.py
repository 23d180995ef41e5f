"""Benchmark the firm-list export on a demo database against a bare openpyxl write of its cells.

    .venv/bin/python bench/export_bench.py --database-url URL [--runs 3]

Takes a database the demo filled (`flask crm demo --firms 100000`) and, as its first
administrator, alternates `--runs` times:

- **export**: the whole export of the unfiltered firm list (`crm.reports.delivery.write` of
  `crm.reports.lists.FIRMS`): the list's select, the rows, the streamed sheet;
- **openpyxl**: a write-only openpyxl workbook of the same cells, prepared beforehand (so it
  times the writing alone, not the query).

Prints each run, the medians and their ratio, then the peak Python memory of one more export
(tracemalloc). `--memory` runs one export alone and prints the process's peak resident size.
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Parse the arguments, run the phases and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--memory", action="store_true", help="run one export only, for its peak resident size"
    )
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url or DATABASE_URL: a database the demo filled")

    from openpyxl import Workbook
    from sqlalchemy import select
    from werkzeug.datastructures import MultiDict

    from crm import create_app
    from crm.accounts.models import User
    from crm.extensions import db
    from crm.reports import delivery, lists

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context(), tempfile.TemporaryDirectory() as folder:
        user = db.session.scalars(
            select(User).where(User.role == "admin").order_by(User.id)
        ).first()
        export, query = lists.FIRMS, MultiDict()
        if args.memory:
            count = delivery.write(export, user, query, Path(folder) / "export.xlsx")
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{count} firms exported; process peak RSS {rss:.0f} MB")
            return
        cells = [[c.header for c in export.columns]]
        cells += [[c.value(row) for c in export.columns] for row in export.rows(user, query)]
        print(f"{len(cells) - 1} firms, {len(export.columns)} columns")

        def ours() -> float:
            start = time.perf_counter()
            delivery.write(export, user, query, Path(folder) / "export.xlsx")
            db.session.rollback()
            return time.perf_counter() - start

        def bare() -> float:
            start = time.perf_counter()
            book = Workbook(write_only=True)
            sheet = book.create_sheet(export.sheet)
            for values in cells:
                sheet.append(values)
            book.save(Path(folder) / "openpyxl.xlsx")
            return time.perf_counter() - start

        timings: dict[str, list[float]] = {"export": [], "openpyxl": []}
        for run in range(1, args.runs + 1):
            for name, fn in (("export", ours), ("openpyxl", bare)):
                seconds = fn()
                timings[name].append(seconds)
                print(f"run {run} {name}: {seconds:.2f} s")
        medians = {name: statistics.median(values) for name, values in timings.items()}
        print(
            f"median export {medians['export']:.2f} s, openpyxl {medians['openpyxl']:.2f} s, "
            f"ratio {medians['export'] / medians['openpyxl']:.2f}"
        )
        cells.clear()
        tracemalloc.start()
        ours()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"export peak Python memory {peak / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
