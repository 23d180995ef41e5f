"""Two transactions changing the same firm at once, each on its own connection, leave its
funnel summary as a rebuild makes it."""

import threading

import pytest
from sqlalchemy import select

from crm.core.database import write_transactions
from crm.extensions import db
from crm.firms.models import Firm
from crm.pipeline import summary
from crm.pipeline.models import FunnelPosition
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from tests import factories

RESERVE = MoveInputs(entry_reason=4)


@pytest.mark.real_commits
def test_a_move_and_a_new_district_committed_together_are_both_counted(app):
    home, away = factories.district("450403"), factories.district("450405")
    firm = factories.make_firm(district=home)
    enrollment = enroll_firm(firm, "hte", "prospect", MoveInputs(), None).enrollment
    db.session.commit()
    firm_id, enrollment_id = firm.id, enrollment.id
    refreshed = threading.Event()
    errors: list[BaseException] = []

    def move():
        # Its summary rows are written first and held until the other has started its commit.
        try:
            with app.app_context(), write_transactions():
                move_firm(db.session.get(type(enrollment), enrollment_id), "reserve", RESERVE, None)
                summary.settle(db.session)
                refreshed.set()
                threading.Event().wait(0.5)
                db.session.commit()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
            refreshed.set()

    def redistrict():
        try:
            refreshed.wait(timeout=30)
            with app.app_context(), write_transactions():
                db.session.get(Firm, firm_id).district_id = away.id
                db.session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=move), threading.Thread(target=redistrict)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    db.session.remove()
    stage, district = db.session.execute(
        select(FunnelPosition.stage_id, FunnelPosition.district_id).where(
            FunnelPosition.firm_id == firm_id
        )
    ).one()
    assert district == away.id
    assert stage == db.session.get(type(enrollment), enrollment_id).stage_id
    kept = {row for row in db.session.execute(select(FunnelPosition.__table__))}
    summary.rebuild(db.session.connection())
    assert {row for row in db.session.execute(select(FunnelPosition.__table__))} == kept
