"""Two reminder scans at once, each on its own connection, create every reminder once."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from crm.certification.models import Duty
from crm.core.database import write_transactions
from crm.extensions import db
from crm.reminders.models import Reminder
from crm.reminders.scan import scan
from tests import factories

SCANS = 2


@pytest.mark.real_commits
def test_two_scans_at_once_create_no_duplicate(app):
    manager = factories.make_user("manager")
    for n in range(40):
        firm = factories.make_firm(manager=manager)
        factories.make_certificate(firm, date(2023, 7, 16 + n % 10))
        db.session.add(
            Duty(firm_id=firm.id, kind="annual_report", year=2025, due_on=date(2026, 5, 31))
        )
    db.session.commit()
    barrier = threading.Barrier(SCANS)
    created: list[int] = []
    errors: list[BaseException] = []

    def scan_in_a_session_of_its_own():
        try:
            # A fresh app context: a session and a connection of this thread's own.
            with app.app_context(), write_transactions():
                barrier.wait(timeout=30)
                created.append(sum(item.created for item in scan(date(2026, 5, 20))))
                db.session.commit()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=scan_in_a_session_of_its_own) for _ in range(SCANS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    db.session.remove()
    total = db.session.scalar(select(func.count(Reminder.id)))
    distinct = db.session.scalar(
        select(func.count()).select_from(
            select(
                Reminder.rule_id,
                Reminder.record_id,
                Reminder.recipient_kind,
                Reminder.recipient_id,
                Reminder.period,
            )
            .distinct()
            .subquery()
        )
    )
    # 40 certificates × (manager, firm) for the 90-day notice, and 40 reports × 2 for 20 May.
    assert total == distinct == 160
    assert sorted(created) == [0, 160]
