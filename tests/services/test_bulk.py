"""Bulk writes store values exactly as SQLAlchemy's own statements store them."""

import gc
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from crm.core import bulk
from crm.excel.models import ImportBatch, ImportRow
from crm.extensions import db
from crm.firms.models import FirmYear
from tests import factories

WHEN = datetime(2026, 6, 15, 2, 0, 0, 123456)


def year_values(firm_id: int, year: int) -> dict:
    return {
        "firm_id": firm_id,
        "year": year,
        "total_revenue": Decimal("12345678.90"),
        "rd_expense": Decimal("0.01"),
        "total_staff": 120,
        "tech_staff": None,
        "created_at": WHEN,
        "updated_at": WHEN,
    }


def stored_years(firm_id: int) -> list[tuple]:
    rows = db.session.execute(
        select(
            FirmYear.year,
            FirmYear.total_revenue,
            FirmYear.rd_expense,
            FirmYear.total_staff,
            FirmYear.tech_staff,
            FirmYear.created_at,
        )
        .where(FirmYear.firm_id == firm_id)
        .order_by(FirmYear.year)
    )
    return [tuple(row) for row in rows]


def test_inserted_rows_read_back_like_rows_sqlalchemy_inserted(app):
    by_core, by_bulk = factories.make_firm(), factories.make_firm()
    db.session.flush()
    db.session.execute(FirmYear.__table__.insert(), [year_values(by_core.id, 2024)])
    values = year_values(by_bulk.id, 2024)
    later = {**year_values(by_bulk.id, 2025), "created_at": datetime(2026, 7, 1)}
    # A datetime repeated from the row before is converted once; a new one is converted anew.
    rows = [tuple(values.values()), tuple(year_values(by_bulk.id, 2026).values())]
    bulk.insert_rows(FirmYear.__table__, tuple(values), [*rows, tuple(later.values())])
    core, rows = stored_years(by_core.id), stored_years(by_bulk.id)
    assert rows[0] == core[0] == (2024, Decimal("12345678.90"), Decimal("0.01"), 120, None, WHEN)
    assert [(row[0], row[5]) for row in rows] == [
        (2024, WHEN),
        (2025, datetime(2026, 7, 1)),
        (2026, WHEN),
    ]


def test_json_columns_keep_documents_and_null(app):
    batch = ImportBatch(kind="firms", filename="名单.xlsx", stored_path="x.xlsx", options={})
    db.session.add(batch)
    db.session.flush()
    columns = ("batch_id", "row_number", "action", "firm_id", "firm_name", "writes", "issues")
    bulk.insert_rows(
        ImportRow.__table__,
        columns,
        [
            (batch.id, 3, "create", None, "梧州甲公司", {"f": {"name": "梧州甲公司"}}, None),
            (batch.id, 4, "rejected", None, None, None, [["B", "error", "「x」不是数字"]]),
        ],
    )
    bulk.update_rows(
        ImportRow.__table__,
        ("firm_id", "action"),
        ("batch_id", "row_number"),
        [(77, "skipped", batch.id, 3)],
    )
    rows = db.session.execute(
        select(ImportRow.row_number, ImportRow.action, ImportRow.firm_id, ImportRow.writes)
        .add_columns(ImportRow.issues)
        .where(ImportRow.batch_id == batch.id)
        .order_by(ImportRow.row_number)
    ).all()
    assert [tuple(r) for r in rows] == [
        (3, "skipped", 77, {"f": {"name": "梧州甲公司"}}, None),
        (4, "rejected", None, None, [["B", "error", "「x」不是数字"]]),
    ]
    unissued = select(ImportRow.row_number).where(
        ImportRow.batch_id == batch.id, ImportRow.issues.is_(None)
    )
    assert db.session.scalars(unissued).all() == [3]  # SQL NULL, not a JSON null


def test_the_collector_resumes_after_nested_and_failed_steps(app):
    assert gc.isenabled()
    try:
        with bulk.collection_paused():
            with bulk.collection_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the outer step still runs
            raise RuntimeError("失败")
    except RuntimeError:
        pass
    assert gc.isenabled()
