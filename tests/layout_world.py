"""A small known world for the government layouts, on 15 June 2026 (Beijing time).

High-tech programme (stage histories written as transitions):

- fa 万秀区, named like a formula, manager A: prospect 2026-01-05, reserve 2026-03-01 (reason 4).
- fb 长洲区: reserve 2025-04-01 (reason 6), applied 2026-06-01.
- fc 万秀区: reserve 2024-03-01, applied 06-01, review 10-01, certified 12-01.
- fg 长洲区: reserve 2025-02-01 (reason 2), coaching 2025-05-01.
- fh 万秀区: reserve 2025-03-01, applied 2026-01-01 (left the pool on the year's first day).
- fi 万秀区: reserve 2026-02-01, moved away the same day (a stay of no length).
- fd 万秀区: prospect 2025-01-01 only.
- fe 万秀区: reserve 2026-03-01, then soft-deleted.

Certification batch 2026 第一批: fa (first, 71–85, pass), fb (renewal, 78, uncertain), fg
withdrawn. Certificates: fc issued 2023-11-20 (expires 2026-11-19) and re-applied in 2026; fg's
issued 2023-03-02 lapsed; fh's issued 2023-05-05 cancelled; fb's issued 2024-01-10.
Listing programme: fa pool 2025-04-01, reform 2026-03-01 (文号 梧金发〔2026〕3号), case with
科创板 and a broker; fb pool 2023-01-01, withdrawn 2024-05-01.
Support ledger: fa hte_award 200,000 paid and rd_subsidy 50,000 claimable in 2026, voucher 7,000
in 2025; fb voucher 10,000 applied in 2026.
Figures 2023–2025 for every firm: sales 29 M, R&D 1.6 M, total revenue 30 M, high-tech 20 M.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from crm.certification.models import CertificationApplication
from crm.core import clock
from crm.extensions import db
from crm.firms.models import Certificate
from crm.listing.models import ListingCase
from crm.pipeline.models import Enrollment, Programme, Stage, StageTransition
from crm.support.models import SupportEntry
from tests import factories

TODAY = date(2026, 6, 15)
FORMULA_NAME = '=HYPERLINK("http://x","y")'


def frozen_today():
    """Freeze the clock at 10:00 Beijing time on TODAY."""
    return clock.frozen(datetime(TODAY.year, TODAY.month, TODAY.day, 2, 0))


def history(firm, programme: str, steps, **enrollment) -> Enrollment:
    """Write an enrollment of `firm` whose transitions are `steps`: (stage code, date, extra)."""
    stages = {
        s.code: s
        for s in db.session.scalars(
            select(Stage).join(Programme).where(Programme.code == programme)
        )
    }
    last_stage = stages[steps[-1][0]]
    row = Enrollment(
        firm_id=firm.id,
        programme_id=last_stage.programme_id,
        stage_id=last_stage.id,
        opened_on=steps[0][1],
        closed_on=steps[-1][1] if last_stage.is_terminal else None,
        **enrollment,
    )
    db.session.add(row)
    db.session.flush()
    previous = None
    for code, day, *extra in steps:
        db.session.add(
            StageTransition(
                enrollment_id=row.id,
                firm_id=firm.id,
                from_stage_id=previous,
                to_stage_id=stages[code].id,
                moved_on=day,
                **(extra[0] if extra else {}),
            )
        )
        previous = stages[code].id
    db.session.flush()
    return row


@dataclass
class World:
    firms: dict
    home: object
    away: object
    manager: object
    admin: object
    batch: object


def build_world() -> World:
    """Write the module's world and return its handles (flushed, not committed)."""
    home, away = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager", districts=[home], name="经理甲")
    admin = factories.make_user("admin", name="管理员")
    names = {
        "fa": (FORMULA_NAME, home, manager),
        "fb": ("长洲精密科技有限公司", away, None),
        "fc": ("万秀电子科技有限公司", home, manager),
        "fd": ("万秀意向科技有限公司", home, None),
        "fe": ("已删除科技有限公司", home, None),
        "fg": ("长洲辅导科技有限公司", away, None),
        "fh": ("万秀年初申报科技有限公司", home, None),
        "fi": ("万秀迁出科技有限公司", home, None),
    }
    firms = {
        key: factories.make_firm(name=name, district=district, manager=who)
        for key, (name, district, who) in names.items()
    }
    for firm in firms.values():
        for year in (2023, 2024, 2025):
            factories.make_year(firm, year)
    hte = "hte"
    history(
        firms["fa"],
        hte,
        [("prospect", date(2026, 1, 5)), ("reserve", date(2026, 3, 1))],
        entry_reason=4,
    )
    history(
        firms["fb"],
        hte,
        [("reserve", date(2025, 4, 1)), ("applied", date(2026, 6, 1))],
        entry_reason=6,
    )
    history(
        firms["fc"],
        hte,
        [
            ("reserve", date(2024, 3, 1)),
            ("applied", date(2024, 6, 1)),
            ("review", date(2024, 10, 1)),
            ("certified", date(2024, 12, 1)),
        ],
        entry_reason=4,
    )
    history(
        firms["fg"],
        hte,
        [("reserve", date(2025, 2, 1)), ("coaching", date(2025, 5, 1))],
        entry_reason=2,
    )
    history(
        firms["fh"],
        hte,
        [("reserve", date(2025, 3, 1)), ("applied", date(2026, 1, 1))],
        entry_reason=4,
    )
    history(
        firms["fi"],
        hte,
        [("reserve", date(2026, 2, 1)), ("moved", date(2026, 2, 1))],
        entry_reason=4,
    )
    history(firms["fd"], hte, [("prospect", date(2025, 1, 1))])
    history(firms["fe"], hte, [("reserve", date(2026, 3, 1))], entry_reason=4)
    firms["fe"].deleted_at = datetime(2026, 5, 1)

    batch = factories.make_batch(2026)
    for key, renewal, low, high, verdict, status in (
        ("fa", False, 71, 85, "pass", "submitted"),
        ("fb", True, 78, 78, "uncertain", "submitted"),
        ("fg", False, 60, 70, "fail", "withdrawn"),
    ):
        db.session.add(
            CertificationApplication(
                firm_id=firms[key].id,
                batch_id=batch.id,
                submitted_on=date(2026, 6, 1),
                is_renewal=renewal,
                assessment_snapshot={"score_min": low, "score_max": high, "result": {}},
                assessment_verdict=verdict,
                status=status,
            )
        )
    factories.make_ip(firms["fa"], "invention", granted_on=date(2022, 1, 1))
    factories.make_ip(firms["fa"], "utility_model", granted_on=date(2026, 6, 10))
    factories.make_ip(firms["fa"], "software", granted_on=date(2021, 1, 1), acquisition="license")
    factories.make_ip(firms["fa"], "design", granted_on=date(2021, 1, 1), status="expired")
    factories.make_ip(firms["fb"], "software", granted_on=date(2024, 1, 1))
    factories.make_ip(firms["fb"], "utility_model", granted_on=date(2024, 2, 1))

    factories.make_certificate(firms["fc"], date(2023, 11, 20), "GR202345000003")
    factories.make_certificate(firms["fg"], date(2023, 3, 2), "GR202345000007", status="lapsed")
    factories.make_certificate(firms["fh"], date(2023, 5, 5), "GR202345000008", status="cancelled")
    factories.make_certificate(firms["fb"], date(2024, 1, 10), "GR202445000002")
    db.session.add(
        CertificationApplication(
            firm_id=firms["fc"].id,
            batch_id=batch.id,
            submitted_on=date(2026, 6, 2),
            is_renewal=True,
            status="submitted",
        )
    )

    listing = history(
        firms["fa"],
        "listing",
        [
            ("pool", date(2025, 4, 1)),
            (
                "reform",
                date(2026, 3, 1),
                {"document_number": "梧金发〔2026〕3号", "document_on": date(2026, 3, 1)},
            ),
        ],
    )
    db.session.add(
        ListingCase(
            enrollment_id=listing.id,
            firm_id=firms["fa"].id,
            target_market="star",
            sponsor_broker="华泰联合证券",
        )
    )
    history(firms["fb"], "listing", [("pool", date(2023, 1, 1)), ("withdrawn", date(2024, 5, 1))])

    for key, kind, amount, granted_on, status in (
        ("fa", "hte_award", "200000", date(2026, 3, 1), "paid"),
        ("fa", "rd_subsidy", "50000", date(2026, 4, 1), "claimable"),
        ("fa", "voucher", "7000", date(2025, 4, 1), "paid"),
        ("fb", "voucher", "10000", date(2026, 5, 1), "applied"),
    ):
        db.session.add(
            SupportEntry(
                firm_id=firms[key].id,
                kind=kind,
                title="测试扶持",
                amount=Decimal(amount),
                granted_on=granted_on,
                status=status,
                paid_on=granted_on if status == "paid" else None,
                document_number="梧科字〔2026〕1号" if status == "paid" else None,
            )
        )
    db.session.flush()
    return World(firms, home, away, manager, admin, batch)


def certificate_of(firm) -> Certificate:
    """Return the firm's latest certificate."""
    return db.session.scalars(
        select(Certificate).where(Certificate.firm_id == firm.id).order_by(Certificate.id.desc())
    ).first()
