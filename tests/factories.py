"""Small factory functions in the manner of CTFd's gen_* helpers; each flushes, none commits."""

import itertools
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from crm.accounts.models import User
from crm.extensions import db
from crm.firms.models import Firm, FirmYear, IPItem, Qualification
from crm.firms.uscc import ALPHABET, check_character
from crm.reference.models import District, Industry, TechField

PASSWORD = "Test-password-1"
#: An id no row has. A rollback does not rewind PostgreSQL's sequences, so ids keep growing over
#: a test process and a small made-up id may well be taken; none gets this far.
MISSING_ID = 2**31 - 1
#: A manager's assessment with every expert-judged item at its maximum and a clean record.
FULL_MARKS = {
    "tech_advancement": 8,
    "core_support": 8,
    "acquisition": 6,
    "standards": 2,
    "rd_rules": 6,
    "rd_institution": 6,
    "rd_incentives": 4,
    "rd_talent": 4,
    "clean_record": True,
}
_seq = itertools.count(1)


def district(code: str | None = None) -> District:
    """Return a seeded district, the first by code unless one is named."""
    stmt = select(District).order_by(District.code)
    if code:
        stmt = stmt.where(District.code == code)
    return db.session.scalars(stmt).first()


def make_user(role: str = "admin", districts=(), **overrides) -> User:
    """Create a user with the test password."""
    n = next(_seq)
    values = {"username": f"user{n}", "name": f"用户{n}", "role": role}
    values.update(overrides)
    user = User(**values)
    user.set_password(PASSWORD)
    user.districts = list(districts)
    db.session.add(user)
    db.session.flush()
    return user


def make_uscc(region: str = "450403", serial: int | None = None) -> str:
    """Return a valid unified social credit code registered in `region`."""
    n = serial if serial is not None else next(_seq)
    body = f"91{region}"
    org = ""
    for _ in range(9):
        n, r = divmod(n, len(ALPHABET))
        org = ALPHABET[r] + org
    first17 = body + org
    return first17 + check_character(first17)


def make_firm(**overrides) -> Firm:
    """Create a firm in the first seeded district."""
    n = next(_seq)
    values = {
        "name": f"梧州测试科技有限公司{n}",
        "uscc": make_uscc(serial=n * 7919),
        "established_on": date(2015, 5, 8),
        "district": district(),
        "tech_field": db.session.scalars(select(TechField).order_by(TechField.id)).first(),
        "industry": db.session.scalars(select(Industry).order_by(Industry.id)).first(),
    }
    values.update(overrides)
    firm = Firm(**values)
    db.session.add(firm)
    db.session.flush()
    return firm


def make_year(firm: Firm, year: int, **overrides) -> FirmYear:
    """Create a year of figures consistent with a firm just inside the high-tech thresholds."""
    values = {
        "total_revenue": Decimal("30000000"),
        "sales_revenue": Decimal("29000000"),
        "hightech_revenue": Decimal("20000000"),
        "rd_expense": Decimal("1600000"),
        "domestic_rd_expense": Decimal("1500000"),
        "total_assets": Decimal("50000000"),
        "total_liabilities": Decimal("20000000"),
        "total_staff": 100,
        "tech_staff": 15,
        "transformed_results": 3,
    }
    values.update(overrides)
    row = FirmYear(firm=firm, year=year, **values)
    db.session.add(row)
    db.session.flush()
    return row


def make_ip(firm: Firm, kind: str = "invention", **overrides) -> IPItem:
    """Create a granted, valid IP item."""
    n = next(_seq)
    values = {
        "number": f"ZL2020{n:07d}",
        "title": f"一种测试装置{n}",
        "granted_on": date(2022, 1, 1),
    }
    values.update(overrides)
    item = IPItem(firm=firm, kind=kind, **values)
    db.session.add(item)
    db.session.flush()
    return item


def make_qualification(firm: Firm, tier: str = "tech_sme", year: int = 2026, **overrides):
    """Create a qualification row."""
    item = Qualification(firm=firm, tier=tier, year=year, **overrides)
    db.session.add(item)
    db.session.flush()
    return item


def make_certificate(
    firm: Firm, issued_on: date, number: str | None = None, source: str = "batch", **overrides
):
    """Record a high-tech certificate through certification's writer, then apply `overrides`."""
    from crm.certification.certificates import record_certificate

    certificate, _ = record_certificate(firm.id, issued_on, number, source)
    for name, value in overrides.items():
        setattr(certificate, name, value)
    db.session.flush()
    return certificate


def money(value: str) -> Decimal:
    """Return a Decimal amount in yuan."""
    return Decimal(value)


def make_batch(year: int = 2026, name: str = "第一批", **overrides):
    """Create a certification batch taking applications from 21 May to 5 September."""
    from crm.certification.models import CertificationBatch

    values = {
        "opens_on": date(year, 5, 21),
        "closes_on": date(year, 9, 5),
        "notice_from": date(year, 11, 10),
        "notice_to": date(year, 11, 21),
    }
    values.update(overrides)
    batch = CertificationBatch(year=year, name=name, **values)
    db.session.add(batch)
    db.session.flush()
    return batch


def make_reminder(recipient, kind: str = "measure_due", firm=None, due_on=None, **values):
    """Create a reminder of `kind` for `recipient` (a user, or a firm for its enterprise users),
    about `firm` (the recipient firm, or a new one), as the scan would have made it."""
    from crm.reminders import rules
    from crm.reminders.models import Reminder, ReminderRule
    from crm.reminders.services import seed_rules

    seed_rules()
    rule = db.session.scalar(select(ReminderRule).where(ReminderRule.code == kind))
    spec = rules.SPECS[kind]
    is_firm = isinstance(recipient, Firm)
    firm = firm or (recipient if is_firm else make_firm())
    reminder = Reminder(
        rule_id=rule.id,
        kind=kind,
        firm_id=firm.id,
        district_id=values.pop("district_id", firm.district_id),
        record_type=spec.record_type,
        record_id=values.pop("record_id", next(_seq)),
        recipient_kind=rules.FIRM if is_firm else rules.USER,
        recipient_id=recipient.id,
        period=values.pop("period", "d0"),
        due_on=due_on,
        link_endpoint=spec.endpoint,
        link_args=dict(spec.link),
        **values,
    )
    db.session.add(reminder)
    db.session.flush()
    return reminder
