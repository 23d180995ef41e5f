"""What the bell and the lists read: capped counts, and the district the scan copies."""

from datetime import date, datetime

from sqlalchemy import insert, select

from crm.core import clock
from crm.extensions import db
from crm.reminders import inbox, rules
from crm.reminders.models import Reminder
from crm.reminders.scan import copy_districts
from tests import factories

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 2, 0)


def test_the_bell_and_the_groups_stop_counting_at_the_cap(app, monkeypatch):
    clock._frozen = NOW
    monkeypatch.setattr(inbox, "COUNT_CAP", 5)
    manager = factories.make_user("manager")
    firm = factories.make_firm()
    first = factories.make_reminder(manager, "no_contact", firm, None)
    rows = [
        {
            "rule_id": first.rule_id,
            "kind": "no_contact",
            "firm_id": firm.id,
            "record_type": "firm",
            "record_id": 1000 + n,
            "recipient_kind": rules.USER,
            "recipient_id": manager.id,
            "period": "d90",
            "link_endpoint": "firms.detail",
            "link_args": {},
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n in range(7)
    ]
    db.session.execute(insert(Reminder), rows)

    assert inbox.unread_count(manager, TODAY) == 5
    counts = inbox.group_counts(manager, TODAY)
    assert counts["today"] == 5 and counts["week"] == 0
    monkeypatch.setattr(inbox, "COUNT_CAP", 100)
    assert inbox.unread_count(manager, TODAY) == 8
    assert inbox.group_counts(manager, TODAY)["today"] == 8


def test_the_scan_copies_the_firms_district_and_follows_a_move(app):
    clock._frozen = NOW
    east, west = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager")
    firm = factories.make_firm(district=east)
    reminder = factories.make_reminder(manager, "no_contact", firm, None, district_id=None)
    done = factories.make_reminder(manager, "measure_due", firm, TODAY, done_at=NOW)
    done.district_id = None
    db.session.flush()

    assert copy_districts(NOW) == 1
    assert db.session.scalar(select(Reminder.district_id).where(Reminder.id == reminder.id)) == (
        east.id
    )
    assert copy_districts(NOW) == 0

    firm.district = west
    db.session.flush()
    assert copy_districts(NOW) == 1
    db.session.expire_all()
    assert db.session.get(Reminder, reminder.id).district_id == west.id
    # A finished reminder keeps what it had.
    assert db.session.get(Reminder, done.id).district_id is None
    assert [t.kind for t in inbox.bureau_todo(TODAY, district_id=west.id).todo.kinds] == [
        "no_contact"
    ]
    assert inbox.bureau_todo(TODAY, district_id=east.id).todo.total == 0


def test_a_period_says_what_it_counts_from():
    def described(kind, period):
        return rules.describe_period(period, rules.SPECS[kind])

    assert described("cert_expiring", "d30") == "到期前 30 天"
    assert described("measure_due", "d0") == "到期当天"
    assert described("change_report", "d30") == "变更后 30 天"
    assert described("results_pending", "d1") == "公示结束后 1 天"
    assert described("no_contact", "2026-03-11") == "自 2026-03-11 起未联系"
    assert described("measure_due", "overdue") == "已逾期"
    assert rules.describe_period("d30") == "30 天"
