"""Benchmark the import of a 50,000-row, 30-column firm workbook against merely reading it.

    .venv/bin/python bench/import_bench.py [--rows 50000] [--database-url URL]

Builds the workbook once (cached under the system temp folder), then, each in a fresh process
so every peak memory figure is that phase's own: python-calamine reading every cell of the
sheet; the dry run (read, map, convert, match and compare every row, store the outcome of each);
and the apply (the stored dry run written: new rows and their audit entries by INSERT … SELECT,
changes by set-based statements). Prints one line per phase and the ratios the budget speaks of.
The database is a fresh SQLite file unless --database-url (or DATABASE_URL) names another,
whose schema is dropped and rebuilt.
"""

import argparse
import json
import os
import random
import resource
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


def build(path: Path, rows: int) -> None:
    """Write the benchmark workbook with openpyxl's write-only mode."""
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
        sheet.append(
            [
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
        )
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
    """Run the dry run (`preview`) or the apply of the workbook, committing once."""
    from sqlalchemy import func, select

    from crm.excel import services
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        name, *rest = args.phase
        result = {"read": phase_read, "setup": phase_setup, "import": phase_import}[name](*rest)
        result["peak_mb"] = peak_mb()
        print(json.dumps(result))
        return
    work = Path(tempfile.gettempdir()) / "crm-bench"
    work.mkdir(exist_ok=True)
    book = work / f"firms-{args.rows}.xlsx"
    if not book.exists():
        build(book, args.rows)
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.sqlite'}"
        engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        run_phase("setup", url, scratch)
        read = run_phase("read", str(book))
        preview = run_phase("import", url, scratch, str(book), "preview")
        applied = run_phase("import", url, scratch, str(book), "apply")
        again = run_phase("read", str(book))
    base = min(read["seconds"], again["seconds"])
    size = book.stat().st_size / 1e6
    print(f"{args.rows:,} rows × {len(header())} columns ({size:.1f} MB), {engine}")
    print(f"  python-calamine read:   {base:6.2f} s   peak {read['peak_mb']:5.0f} MB")
    print(
        f"  dry run:                {preview['seconds']:6.2f} s   peak {preview['peak_mb']:5.0f} MB"
        f"   {preview['seconds'] / base:4.2f}× read   {preview['counts']}"
    )
    print(
        f"  apply:                  {applied['seconds']:6.2f} s   peak {applied['peak_mb']:5.0f} MB"
        f"   {applied['seconds'] / base:4.2f}× read   firms in database: {applied['firms']:,}"
    )


if __name__ == "__main__":
    main()
