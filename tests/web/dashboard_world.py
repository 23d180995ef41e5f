"""A small known history for the dashboard tests, built with the pipeline services.

Today is 2026-06-15. Two districts, 万秀区 (home) and 长洲区 (away), a manager for each:

- f1 (home, park, manager A): reserve 2024-03-01, applied 06-01, review 10-01, certified 12-01
  (certificate issued 2024-11-20, expires 2027-11-19).
- f2 (home, manager A): reserve 2024-04-01, applied 2025-06-10.
- f3 (away, manager B): reserve 2025-03-01; listing pool 2025-04-01.
- f4 (away, manager B): reserve 2023-03-01, applied 06-01, review 10-01, certified 12-01
  (certificate issued 2023-11-20, expires 2026-11-19).
- f5 (away, no manager): prospect 2026-01-10.

Invention patents: f1 one granted 2022, f4 one granted 2023 and one lapsed; f2 a utility model.
Support: f1 高企认定奖励 ¥200,000 paid 2026-03-01; f4 创新券 ¥50,000 paid 2026-02-01 and
¥30,000 paid 2025-12-20; f3 创新券 ¥10,000 applied for, not paid.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from crm.certification.models import CertificationBatch
from crm.core import clock
from crm.extensions import db
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from crm.reference.models import Park, TechField
from crm.support.models import SupportEntry
from tests import factories

TODAY = date(2026, 6, 15)
#: 10:00 Beijing time today.
NOW = datetime(2026, 6, 15, 2, 0)
RESERVE = MoveInputs(entry_reason=4)
NOTHING = MoveInputs()


def on(day: date):
    """Freeze the clock at 10:00 Beijing time on `day`."""
    return clock.frozen(datetime(day.year, day.month, day.day, 2, 0))


def certified(number: str, issued_on: date) -> MoveInputs:
    return MoveInputs(certificate_number=number, certificate_issued_on=issued_on)


def make_world() -> dict:
    """Build and commit the history of the module docstring; return its firms and people."""
    with on(date(2023, 1, 2)):
        home, away = factories.district("450403"), factories.district("450405")
        park = db.session.scalars(select(Park).order_by(Park.name)).first()
        field = db.session.scalars(select(TechField).order_by(TechField.sort_order)).first()
        manager_a = factories.make_user("manager", districts=[home], name="甲专员")
        manager_b = factories.make_user("manager", districts=[away], name="乙专员")
        layout = {
            "f1": (home, park, manager_a),
            "f2": (home, None, manager_a),
            "f3": (away, None, manager_b),
            "f4": (away, None, manager_b),
            "f5": (away, None, None),
        }
        firms = {}
        for key, (district, firm_park, manager) in layout.items():
            firms[key] = factories.make_firm(
                name=f"梧州看板{key}科技有限公司",
                district=district,
                park=firm_park,
                tech_field=field,
                manager=manager,
            )
            for year in range(2019, 2026):
                factories.make_year(firms[key], year)
        batches = {}
        for year in (2023, 2024, 2025):
            batches[year] = CertificationBatch(
                year=year, name="第一批", opens_on=date(year, 5, 1), closes_on=date(year, 7, 31)
            )
            db.session.add(batches[year])
        db.session.commit()

    enrollments = {}

    def enroll(key, programme, stage, inputs=NOTHING):
        result = enroll_firm(firms[key], programme, stage, inputs, manager_a)
        enrollments[(key, programme)] = result.enrollment

    def move(key, target, inputs=NOTHING):
        move_firm(enrollments[(key, "hte")], target, inputs, manager_a)

    def apply(key, year):
        move(key, "applied", MoveInputs(batch_id=batches[year].id))

    steps = [
        (date(2023, 3, 1), lambda: enroll("f4", "hte", "reserve", RESERVE)),
        (date(2023, 6, 1), lambda: apply("f4", 2023)),
        (date(2023, 10, 1), lambda: move("f4", "review")),
        (
            date(2023, 12, 1),
            lambda: move("f4", "certified", certified("GR202345000004", date(2023, 11, 20))),
        ),
        (date(2024, 3, 1), lambda: enroll("f1", "hte", "reserve", RESERVE)),
        (date(2024, 4, 1), lambda: enroll("f2", "hte", "reserve", RESERVE)),
        (date(2024, 6, 1), lambda: apply("f1", 2024)),
        (date(2024, 10, 1), lambda: move("f1", "review")),
        (
            date(2024, 12, 1),
            lambda: move("f1", "certified", certified("GR202445000001", date(2024, 11, 20))),
        ),
        (date(2025, 3, 1), lambda: enroll("f3", "hte", "reserve", RESERVE)),
        (date(2025, 4, 1), lambda: enroll("f3", "listing", "pool")),
        (date(2025, 6, 10), lambda: apply("f2", 2025)),
        (date(2026, 1, 10), lambda: enroll("f5", "hte", "prospect")),
    ]
    for day, step in steps:
        with on(day):
            step()
            db.session.commit()
    with on(date(2026, 3, 2)):
        factories.make_ip(firms["f1"], granted_on=date(2022, 5, 1))
        factories.make_ip(firms["f4"], granted_on=date(2023, 5, 1))
        factories.make_ip(firms["f4"], granted_on=date(2015, 5, 1), status="expired")
        factories.make_ip(firms["f2"], kind="utility_model")
        for key, kind, amount, status, paid_on in (
            ("f1", "hte_award", "200000", "paid", date(2026, 3, 1)),
            ("f4", "voucher", "50000", "paid", date(2026, 2, 1)),
            ("f4", "voucher", "30000", "paid", date(2025, 12, 20)),
            ("f3", "voucher", "10000", "applied", None),
        ):
            db.session.add(
                SupportEntry(
                    firm_id=firms[key].id,
                    kind=kind,
                    amount=Decimal(amount),
                    granted_on=(paid_on or date(2026, 1, 5)).replace(day=1),
                    status=status,
                    paid_on=paid_on,
                )
            )
        db.session.commit()
    return {
        "firms": firms,
        "home": home,
        "away": away,
        "park": park,
        "field": field,
        "manager_a": manager_a,
        "manager_b": manager_b,
    }
