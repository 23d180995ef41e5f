"""A batch's outcome entered in one go, and the batches themselves, on a real database."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.certification import services
from crm.certification.models import CertificationApplication, CertificationBatch
from crm.certification.results import ResultRow, record_results
from crm.core import clock
from crm.extensions import db
from crm.firms.models import Certificate
from crm.pipeline.models import Enrollment
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from tests import factories

TODAY = datetime(2026, 11, 22, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(TODAY):
        yield


@pytest.fixture
def world(app):
    """Four firms that applied in the 2026 batch (published 10 November), the manager's firms."""
    manager = factories.make_user("manager", districts=[factories.district()])
    batch = factories.make_batch(2026)
    firms = []
    for n in range(4):
        firm = factories.make_firm(manager=manager, name=f"申报企业{n}")
        for year in (2023, 2024, 2025):
            factories.make_year(firm, year)
        firms.append(firm)
    db.session.commit()
    apps = []
    with clock.frozen(datetime(2026, 6, 20, 2, 0)):
        for firm in firms:
            inputs = MoveInputs(entry_reason=4, moved_on=date(2026, 6, 1))
            enrollment = enroll_firm(firm, "hte", "reserve", inputs, manager).enrollment
            move_firm(enrollment, "applied", MoveInputs(batch_id=batch.id), manager)
            apps.append(
                db.session.scalar(select(CertificationApplication).filter_by(firm_id=firm.id))
            )
    db.session.commit()
    return {"manager": manager, "batch": batch, "firms": firms, "apps": apps}


def stage_of(firm) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Enrollment).filter_by(firm_id=firm.id)).stage.code


def test_each_result_is_a_move_and_a_refused_firm_leaves_the_others_recorded(world):
    a, b, c, d = world["apps"]
    rows = [
        ResultRow(a.id, "certified", "GR202645000123", date(2026, 11, 20)),
        ResultRow(b.id, "certified", "GR2026-9", date(2026, 11, 20)),
        ResultRow(c.id, "not_certified", reason="研发费用占比不足"),
        ResultRow(d.id, "certified", "GR202645000999", None),
    ]
    outcomes = record_results(world["batch"], rows, world["manager"], date(2026, 11, 21))
    db.session.commit()

    assert [(o.firm_name, o.recorded) for o in outcomes] == [
        ("申报企业0", True),
        ("申报企业1", True),
        ("申报企业2", True),
        ("申报企业3", False),
    ]
    assert "认定为高企需填写发证日期" in outcomes[3].messages
    assert "证书编号“GR2026-9”不符合常见格式（GR + 年份 + 45 + 6 位数字），请核对" in (
        outcomes[1].messages
    )
    firms = world["firms"]
    assert [stage_of(f) for f in firms] == ["certified", "certified", "not_certified", "applied"]
    db.session.expire_all()
    a, b, c, d = (db.session.get(CertificationApplication, x.id) for x in world["apps"])
    assert (a.status, a.expires_on, a.certificate_number) == (
        "certified",
        date(2029, 11, 19),
        "GR202645000123",
    )
    assert (c.status, c.reason, c.result_on) == (
        "not_certified",
        "研发费用占比不足",
        date(2026, 11, 21),
    )
    # The refused firm is untouched: not even the step through review was kept.
    assert d.status == "submitted"
    enrollment = db.session.scalar(select(Enrollment).filter_by(firm_id=firms[0].id))
    moves = [(t.to_stage.code, t.moved_on) for t in enrollment.transitions]
    assert moves[-2:] == [("review", date(2026, 11, 10)), ("certified", date(2026, 11, 20))]
    held = db.session.scalars(select(Certificate.firm_id).filter_by(status="valid")).all()
    assert sorted(held) == [firms[0].id, firms[1].id]


def test_review_then_withdrawal(world):
    a, b, _, _ = world["apps"]
    batch, manager = world["batch"], world["manager"]
    outcomes = record_results(batch, [ResultRow(a.id, "review")], manager, date(2026, 11, 10))
    assert outcomes[0].recorded
    assert stage_of(world["firms"][0]) == "review"
    again = record_results(batch, [ResultRow(a.id, "review")], manager, date(2026, 11, 11))
    assert again[0].messages == ["企业已处于「评审/公示中」"]
    rows = [ResultRow(a.id, "withdrawn"), ResultRow(b.id, "withdrawn", reason="主动撤回")]
    outcomes = record_results(batch, rows, manager, date(2026, 11, 12))
    db.session.commit()
    assert all(o.recorded for o in outcomes)
    db.session.expire_all()
    first, second = (db.session.get(CertificationApplication, x.id) for x in (a, b))
    assert (first.status, first.reason) == ("withdrawn", "企业撤回申报")
    assert (second.status, second.reason) == ("withdrawn", "企业撤回申报：主动撤回")
    assert stage_of(world["firms"][1]) == "not_certified"


def test_a_result_already_recorded_is_not_recorded_twice(world):
    a = world["apps"][0]
    row = ResultRow(a.id, "not_certified", reason="未达标")
    record_results(world["batch"], [row], world["manager"], date(2026, 11, 21))
    [outcome] = record_results(world["batch"], [row], world["manager"], date(2026, 11, 21))
    assert not outcome.recorded
    assert outcome.messages == ["该申报已有结果（未通过）"]


def test_an_application_of_another_batch_is_ignored(world):
    other = factories.make_batch(
        2026, "第二批", opens_on=date(2026, 11, 1), closes_on=date(2026, 12, 15)
    )
    row = ResultRow(world["apps"][0].id, "review")
    assert record_results(other, [row], world["manager"], date(2026, 11, 21)) == []
    assert stage_of(world["firms"][0]) == "applied"


# --- Batches -------------------------------------------------------------------------------------


def batch_values(**changes):
    values = {
        "year": 2027,
        "name": "第一批",
        "opens_on": date(2027, 5, 21),
        "closes_on": date(2027, 9, 5),
        "city_recommend_by": None,
        "notice_from": None,
        "notice_to": None,
        "filed_on": None,
        "notes": None,
    }
    return {**values, **changes}


def test_batches_are_unique_by_year_and_name(app):
    batch = services.create_batch(batch_values())
    services.create_batch(
        batch_values(year=2028, opens_on=date(2028, 5, 21), closes_on=date(2028, 9, 5))
    )
    with pytest.raises(services.BatchError) as refused:
        services.create_batch(batch_values())
    assert (refused.value.field, refused.value.message) == ("name", "2027 年已有名为“第一批”的批次")
    services.update_batch(batch, batch_values(notes="第一批次"))
    assert batch.notes == "第一批次"
    with pytest.raises(services.BatchError):
        services.update_batch(
            batch, batch_values(year=2028, opens_on=date(2028, 5, 21), closes_on=date(2028, 9, 5))
        )
    db.session.commit()
    assert db.session.scalar(select(CertificationBatch).filter_by(year=2027)).notes == "第一批次"


def test_a_batch_with_dates_out_of_order_is_refused(app):
    with pytest.raises(services.BatchError) as refused:
        services.create_batch(batch_values(closes_on=date(2027, 5, 1)))
    assert refused.value.message == "申报截止日期不能早于申报开始日期"
