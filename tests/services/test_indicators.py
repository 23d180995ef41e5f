"""Dashboard indicators on a small known world, on a real database (today is 2026-06-15).

- fa (万秀区, 高新区, manager A): high-tech certificate 2024-11-20..2027-11-19; open high-tech
  enrollment in 高企后备库 and an open listing one; 2025 figures R&D 1,000,000 of 20,000,000;
  invention patents granted 2022 (two valid, one expired) and a utility model; support paid in
  2025: 高企认定奖励 200,000 and 创新券 50,000; paid in 2024: 30,000; applied in 2025: 100,000.
- fb (长洲区, manager B): certificate 2023-11-20..2026-11-19; open enrollment in 一企一策辅导;
  2025 figures R&D 300,000 of 10,000,000; an invention patent granted 2026-03-01; 创新券
  20,000 paid in 2025.
- fc (万秀区, manager A): a certificate that ended on 2025-06-01; in 高企后备库 without 2025
  figures.
- fd (万秀区, manager A): enrollment in 高企后备库 closed, another open in 已申报: not pooled.
- fe (万秀区, manager A): like fa, but soft-deleted: it never counts.
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.dashboard import indicators
from crm.extensions import db
from crm.firms.models import Firm
from crm.pipeline.models import Enrollment, Programme, Stage
from crm.reference.models import Park
from crm.support.models import SupportEntry
from tests import factories

TODAY = date(2026, 6, 15)
YEAR_END = date(2025, 12, 31)


def enroll(firm, programme: str, stage: str, closed_on: date | None = None) -> None:
    stage_row = db.session.scalars(
        select(Stage)
        .join(Programme, Programme.id == Stage.programme_id)
        .where(Programme.code == programme, Stage.code == stage)
    ).one()
    db.session.add(
        Enrollment(
            firm_id=firm.id,
            programme_id=stage_row.programme_id,
            stage_id=stage_row.id,
            opened_on=date(2025, 3, 1),
            closed_on=closed_on,
        )
    )


def support(firm, kind: str, amount: str, status: str = "paid", paid_on=date(2025, 7, 1)):
    db.session.add(
        SupportEntry(
            firm_id=firm.id,
            kind=kind,
            amount=Decimal(amount),
            granted_on=date(paid_on.year, 1, 10),
            status=status,
            paid_on=paid_on if status == "paid" else None,
            document_number="梧科〔2025〕1号" if status == "paid" else None,
        )
    )


def populated(firm, fb=False):
    """Give a firm fa's (or fb's) certificate, enrollments, figures, patents and support."""
    if fb:
        factories.make_certificate(firm, date(2023, 11, 20))
        enroll(firm, "hte", "coaching")
        factories.make_year(firm, 2025, rd_expense=Decimal(300000), sales_revenue=Decimal(10**7))
        factories.make_ip(firm, granted_on=date(2026, 3, 1))
        support(firm, "voucher", "20000")
        return
    factories.make_certificate(firm, date(2024, 11, 20))
    enroll(firm, "hte", "reserve")
    enroll(firm, "listing", "pool")
    factories.make_year(firm, 2025, rd_expense=Decimal(10**6), sales_revenue=Decimal(2 * 10**7))
    factories.make_ip(firm)
    factories.make_ip(firm)
    factories.make_ip(firm, status="expired")
    factories.make_ip(firm, kind="utility_model")
    # Held under a licence, not owned: not one of the firm's patents.
    factories.make_ip(firm, acquisition="license")
    support(firm, "hte_award", "200000")
    support(firm, "voucher", "50000")
    support(firm, "voucher", "30000", paid_on=date(2024, 12, 31))
    support(firm, "hte_award", "100000", status="applied")


@pytest.fixture
def world(app):
    with clock.frozen(datetime(2026, 6, 15, 2, 0)):
        home, away = factories.district("450403"), factories.district("450405")
        park = db.session.scalars(select(Park).order_by(Park.name)).first()
        manager_a = factories.make_user("manager", districts=[home], name="经理A")
        manager_b = factories.make_user("manager", districts=[away], name="经理B")
        fa = factories.make_firm(district=home, park=park, manager=manager_a)
        fb = factories.make_firm(district=away, manager=manager_b)
        fc = factories.make_firm(district=home, manager=manager_a)
        fd = factories.make_firm(district=home, manager=manager_a)
        fe = factories.make_firm(district=home, manager=manager_a)
        populated(fa)
        populated(fb, fb=True)
        populated(fe)
        fe.deleted_at = datetime(2026, 1, 5)
        factories.make_certificate(
            fc, date(2022, 11, 20), status="cancelled", ended_on=date(2025, 6, 1)
        )
        enroll(fc, "hte", "reserve")
        enroll(fd, "hte", "reserve", closed_on=date(2025, 4, 1))
        enroll(fd, "hte", "applied")
        db.session.commit()
        yield {
            "home": home,
            "away": away,
            "park": park,
            "manager_a": manager_a,
            "manager_b": manager_b,
            "fa": fa,
        }


def by_group(rows, value):
    return [(row.group, value(row)) for row in rows]


# --- High-tech enterprises -----------------------------------------------------------------------


def test_hte_count_counts_holders_on_the_day(world):
    assert indicators.hte_count(YEAR_END) == [indicators.GroupCount(2)]
    # fc's certificate was still in force before it ended.
    assert indicators.hte_count(date(2025, 5, 1))[0].count == 3
    # fb's expired after 2026-11-19.
    assert indicators.hte_count(date(2026, 12, 1))[0].count == 1
    assert indicators.hte_count(date(2020, 1, 1)) == [indicators.GroupCount(0)]


def test_hte_count_a_firm_with_two_valid_certificates_counts_once(world):
    factories.make_certificate(world["fa"], date(2025, 10, 1), status="valid")
    assert indicators.hte_count(YEAR_END)[0].count == 2


def test_hte_count_breakdowns_and_scope(world):
    home, away = world["home"].name, world["away"].name
    assert by_group(indicators.hte_count(YEAR_END, by="district"), lambda r: r.count) == [
        (home, 1),
        (away, 1),
    ]
    assert by_group(indicators.hte_count(YEAR_END, by="park"), lambda r: r.count) == [
        (world["park"].name, 1),
        ("不在园区", 1),
    ]
    rows = indicators.hte_count(YEAR_END, by="manager")
    assert by_group(rows, lambda r: r.count) == [("经理A", 1), ("经理B", 1)]
    assert rows[0].group_id == world["manager_a"].id
    assert indicators.hte_count(YEAR_END, scope=world["manager_b"])[0].count == 1
    assert (
        indicators.hte_count(YEAR_END, scope=[world["manager_b"], Firm.park_id.is_not(None)])[
            0
        ].count
        == 0
    )


# --- R&D intensity of the reserve pool -----------------------------------------------------------


def test_pool_rd_intensity_sums_the_pooled_firms_figures(world):
    (row,) = indicators.pool_rd_intensity(2025)
    assert (row.firms, row.firms_with_figures) == (3, 2)  # fa, fb, fc; fc has no 2025 figures
    assert row.rd_expense == Decimal(1300000)
    assert row.revenue == Decimal(30000000)
    assert row.percent == pytest.approx(1300000 / 30000000 * 100)


def test_pool_rd_intensity_without_revenue_is_none(world):
    (row,) = indicators.pool_rd_intensity(2024)
    assert (row.firms, row.firms_with_figures, row.percent) == (3, 0, None)
    (empty,) = indicators.pool_rd_intensity(2025, scope=Firm.id == -1)
    assert (empty.firms, empty.percent) == (0, None)


def test_pool_rd_intensity_by_district(world):
    rows = indicators.pool_rd_intensity(2025, by="district")
    assert by_group(rows, lambda r: (r.firms, r.firms_with_figures, r.percent)) == [
        (world["home"].name, (2, 1, pytest.approx(5.0))),
        (world["away"].name, (1, 1, pytest.approx(3.0))),
    ]
    (mine,) = indicators.pool_rd_intensity(2025, scope=world["manager_a"])
    assert (mine.firms, mine.percent) == (2, pytest.approx(5.0))


# --- Invention patents ---------------------------------------------------------------------------


def test_invention_patents_held_on_the_day(world):
    assert indicators.invention_patents(YEAR_END) == [indicators.GroupCount(2)]
    assert indicators.invention_patents(TODAY)[0].count == 3  # fb's granted 2026-03-01
    assert indicators.invention_patents(date(2021, 12, 31))[0].count == 0
    rows = indicators.invention_patents(TODAY, by="district")
    assert by_group(rows, lambda r: r.count) == [(world["home"].name, 2), (world["away"].name, 1)]
    assert indicators.invention_patents(TODAY, scope=world["manager_b"])[0].count == 1


# --- Support paid --------------------------------------------------------------------------------


def test_support_paid_in_the_year(world):
    assert indicators.support_paid(2025) == [indicators.SupportPaid(Decimal(270000), 3)]
    assert indicators.support_paid(2024) == [indicators.SupportPaid(Decimal(30000), 1)]
    assert indicators.support_paid(2023) == [indicators.SupportPaid(Decimal(0), 0)]


def test_support_paid_by_kind_and_group(world):
    rows = indicators.support_paid(2025, by_kind=True)
    assert [(r.kind, r.kind_name, r.amount, r.entries) for r in rows] == [
        ("hte_award", "高企认定奖励", Decimal(200000), 1),
        ("voucher", "创新券", Decimal(70000), 2),
    ]
    rows = indicators.support_paid(2025, by="district")
    assert by_group(rows, lambda r: r.amount) == [
        (world["home"].name, Decimal(250000)),
        (world["away"].name, Decimal(20000)),
    ]
    rows = indicators.support_paid(2025, by="district", by_kind=True)
    assert [(r.group, r.kind, r.amount) for r in rows] == [
        (world["home"].name, "hte_award", Decimal(200000)),
        (world["home"].name, "voucher", Decimal(50000)),
        (world["away"].name, "voucher", Decimal(20000)),
    ]
    (mine,) = indicators.support_paid(2025, scope=world["manager_b"])
    assert mine.amount == Decimal(20000)
