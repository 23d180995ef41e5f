"""Benchmark the import of a 50,000-row, 30-column firm workbook against merely reading it.

    .venv/bin/python bench/import_bench.py [--rows 50000] [--repeat 3] [--database-url URL]

Builds two workbooks once (cached under the system temp folder): a clean one, and the same with
1 % of its rows faulty (a word in an amount, an unknown district, a date that is none). Then,
`--repeat` times, each phase in a fresh process so that every peak memory figure is that
phase's own, and each timed inside its process, after the interpreter and the app have started:

- read: python-calamine reading every cell of the clean sheet, and nothing else;
- dry run: read, map, convert, match and compare every row, store the outcome of each;
- apply: the stored dry run written (new rows and their audit entries by INSERT … SELECT,
  changes by set-based statements); the faulty file's with "only the rows without errors";
- marked copy (faulty file only): the user's sheet written back with the faulty cells marked
  and the 导入结果 column, which the app writes in the background after the dry run.

Each repetition starts from an empty database. Prints the median of each phase and the ratios
the budget speaks of: (dry run + apply) / read for the clean file, and faulty / clean. The
database is a fresh SQLite file unless --database-url (or DATABASE_URL) names another, whose
schema is dropped and rebuilt. --json FILE also writes every measurement.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEARS = (2023, 2024, 2025)
FIGURES = ("营业收入", "高新技术产品（服务）收入", "研发费用", "资产总额")
COUNTS = ("职工总数", "科技人员数")
DISTRICTS = ("万秀区", "长洲区", "龙圩区", "苍梧县", "藤县", "蒙山县", "岑溪市")
REGIONS = ("450403", "450405", "450406", "450421", "450422", "450423", "450481")
FIELDS = ("电子信息", "新材料", "先进制造与自动化", "生物与新医药", "资源与环境")
INDUSTRIES = ("电子信息", "林产林化", "食品", "医药制造", "陶瓷建材")


def header() -> list[str]:
    """Return the 30 column names: 12 of the profile and 18 yearly figures over three years."""
    profile = [
        "企业名称",
        "统一社会信用代码",
        "法定代表人",
        "成立日期",
        "注册资本（万元）",
        "地址",
        "所属县（市、区）",
        "所在园区",
        "所属行业",
        "技术领域",
        "是否规上企业",
        "是否孵化器",
    ]
    yearly = [f"{year}年{name}（万元）" for year in YEARS for name in FIGURES]
    yearly += [f"{year}年{name}（人）" for year in YEARS for name in COUNTS]
    return profile + yearly


#: Every this many rows, one is faulty in the faulty workbook (1 %).
FAULTY_EVERY = 100


def build(path: Path, rows: int, faulty: bool = False) -> None:
    """Write the benchmark workbook with openpyxl's write-only mode.

    With `faulty`, one row in `FAULTY_EVERY` has one error, in turn: a word in the first
    revenue, a district the city does not have, a founding date that is no date.
    """
    from openpyxl import Workbook

    from crm.firms.uscc import ALPHABET, check_character

    rng = random.Random(4504)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("企业名单")
    sheet.append(["梧州市科技企业名单（基准测试）"])
    sheet.append(header())
    for n in range(rows):
        k = n % len(DISTRICTS)
        org, value = "", n + 100_000
        for _ in range(9):
            value, rest = divmod(value, len(ALPHABET))
            org = ALPHABET[rest] + org
        first17 = f"91{REGIONS[k]}{org}"
        revenue = rng.uniform(500, 50_000)
        row = [
            f"梧州基准{n:06d}科技有限公司",
            first17 + check_character(first17),
            "张三",
            date(2005, 1, 1) + timedelta(days=rng.randint(0, 7000)),
            round(rng.uniform(50, 5000), 2),
            f"梧州市{DISTRICTS[k]}某路 {n} 号",
            DISTRICTS[k],
            "梧州高新区" if n % 5 == 0 else None,
            INDUSTRIES[n % len(INDUSTRIES)],
            FIELDS[n % len(FIELDS)],
            "是" if n % 7 == 0 else "否",
            "否",
            *[
                round(revenue * share * (1 + 0.1 * y), 2)
                for y in range(len(YEARS))
                for share in (1, 0.7, 0.05, 1.5)
            ],
            *[rng.randint(20, 500) // d for _ in YEARS for d in (1, 6)],
        ]
        if faulty and n % FAULTY_EVERY == FAULTY_EVERY // 2:
            which = n // FAULTY_EVERY % 3
            if which == 0:
                row[12] = "约五百万"
            elif which == 1:
                row[6] = "梧州新区"
            else:
                row[3] = "不详"
        sheet.append(row)
    book.save(path)


def peak_mb() -> float:
    """Return this process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_read(path: str) -> dict:
    """Read every cell with python-calamine and nothing else."""
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    book = CalamineWorkbook.from_path(path)
    sheet = book.get_sheet_by_name(book.sheet_names[0])
    cells = sum(len(row) for row in sheet.iter_rows())
    return {"seconds": time.perf_counter() - started, "cells": cells}


def _app(url: str):
    from crm import create_app
    from crm.config import TestConfig

    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    return create_app({**config, "SQLALCHEMY_DATABASE_URI": url, "TESTING": False})


def phase_setup(url: str, instance: str) -> dict:
    """Build an empty schema with the city's reference data."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from crm.admin.services import seed_reference_data
    from crm.extensions import db

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    app = _app(url)
    app.instance_path = instance
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        seed_reference_data(app.config["CITY"])
        db.session.commit()
    return {}


def phase_import(url: str, instance: str, path: str, step: str) -> dict:
    """Run the dry run (`preview`), the marked copy (`copy`) or the apply, committing once."""
    from sqlalchemy import func, select

    from crm.excel import dryrun, services
    from crm.excel.models import ImportBatch
    from crm.extensions import db
    from crm.firms.models import Firm

    app = _app(url)
    app.instance_path = instance
    app.config["MAX_CONTENT_LENGTH"] = 200 * 1024 * 1024
    with app.app_context():
        if step == "preview":
            started = time.perf_counter()
            batch = services.start_import_from_path("firms", Path(path), None)
            services.run_preview(batch)
            db.session.commit()
        else:
            batch = db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
            if step == "copy":
                target = Path(instance) / "marked.xlsx"
                started = time.perf_counter()
                dryrun.write_annotated(batch, target)
                seconds = time.perf_counter() - started
                return {"seconds": seconds, "bytes": target.stat().st_size}
            batch.options = {**batch.options, "valid_only": True}
            db.session.commit()
            started = time.perf_counter()
            services.run_apply(batch)
            db.session.commit()
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "counts": batch.counts,
            "firms": db.session.scalar(select(func.count(Firm.id))),
        }


def run_phase(*args: str) -> dict:
    """Run one phase in a fresh interpreter and return what it measured."""
    output = subprocess.run(
        [sys.executable, __file__, "--phase", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def workbook(rows: int, faulty: bool) -> Path:
    """Return the benchmark workbook, built the first time it is asked for."""
    work = Path(tempfile.gettempdir()) / "crm-bench"
    work.mkdir(exist_ok=True)
    path = work / f"firms-{rows}{'-faulty' if faulty else ''}.xlsx"
    if not path.exists():
        build(path, rows, faulty)
    return path


def one_run(url: str, scratch: str, clean: Path, faulty: Path) -> dict[str, dict]:
    """Measure every phase once, each file's import on an empty database."""
    found = {"read": run_phase("read", str(clean))}
    for name, book in (("clean", clean), ("faulty", faulty)):
        run_phase("setup", url, scratch)
        found[f"{name} dry run"] = run_phase("import", url, scratch, str(book), "preview")
        if name == "faulty":
            found["marked copy"] = run_phase("import", url, scratch, str(book), "copy")
        found[f"{name} apply"] = run_phase("import", url, scratch, str(book), "apply")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        name, *rest = args.phase
        result = {"read": phase_read, "setup": phase_setup, "import": phase_import}[name](*rest)
        result["peak_mb"] = peak_mb()
        print(json.dumps(result))
        return
    clean, faulty = workbook(args.rows, False), workbook(args.rows, True)
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.sqlite'}"
        engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        for _ in range(args.repeat):
            runs.append(one_run(url, scratch, clean, faulty))
    if args.json:
        args.json.write_text(json.dumps(runs, ensure_ascii=False, indent=1))
    report(runs, args.rows, engine, clean.stat().st_size / 1e6)


def report(runs: list[dict[str, dict]], rows: int, engine: str, size: float) -> None:
    """Print the median of each phase, its peak memory, and the ratios of the budget."""

    def median(phase: str) -> float:
        return statistics.median(run[phase]["seconds"] for run in runs)

    def ratio(top: tuple[str, ...], bottom: tuple[str, ...]) -> float:
        return statistics.median(
            sum(run[p]["seconds"] for p in top) / sum(run[p]["seconds"] for p in bottom)
            for run in runs
        )

    read = median("read")
    print(f"{rows:,} rows × {len(header())} columns ({size:.1f} MB), {engine}, {len(runs)} runs")
    print("  phase                  median     × read   peak")
    for phase in runs[0]:
        seconds = median(phase)
        peak = max(run[phase]["peak_mb"] for run in runs)
        print(f"  {phase:20} {seconds:7.2f} s   {seconds / read:5.2f}×   {peak:4.0f} MB")
    clean, faulty = ("clean dry run", "clean apply"), ("faulty dry run", "faulty apply")
    print(f"  clean dry run + apply:  {ratio(clean, ('read',)):4.2f}× read (run by run, median)")
    print(f"  faulty dry run + apply: {ratio(faulty, clean):4.2f}× the clean file's")
    with_copy = (*faulty, "marked copy")
    print(f"  … with the marked copy: {ratio(with_copy, clean):4.2f}× the clean file's")
    for name in ("clean apply", "faulty apply"):
        print(
            f"  {name}: {runs[-1][name]['counts']}, firms in database {runs[-1][name]['firms']:,}"
        )


if __name__ == "__main__":
    main()
