"""A manager takes one firm up the ladder through the pages, every gate on the way enforced:
reserve pool → one-firm-one-policy coaching → an application in a batch → review → certified →
the listing-reserve pool, and every step shows on the firm's timeline.
"""

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.certification.models import CertificationApplication
from crm.coaching.models import CoachingPlan
from crm.core import clock
from crm.extensions import db
from crm.firms.models import Certificate
from crm.pipeline.models import Enrollment
from crm.support.models import SupportEntry
from tests import factories

NOW = datetime(2026, 7, 1, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def stage_of(firm_id: int, programme: str) -> str | None:
    db.session.expire_all()
    enrollment = next(
        (
            e
            for e in db.session.scalars(select(Enrollment).where(Enrollment.firm_id == firm_id))
            if e.programme.code == programme and e.is_open
        ),
        None,
    )
    return enrollment.stage.code if enrollment else None


def move(client, firm_id: int, programme: str, target: str, **fields):
    enrollment = db.session.scalar(
        select(Enrollment).where(Enrollment.firm_id == firm_id, Enrollment.closed_on.is_(None))
        if programme == "hte"
        else select(Enrollment).where(Enrollment.firm_id == firm_id).order_by(Enrollment.id.desc())
    )
    data = {f"move-{enrollment.id}-{k}": v for k, v in {"target": target, **fields}.items()}
    return client.post(
        f"/pipeline/enrollments/{enrollment.id}/move", data=data, follow_redirects=True
    )


def test_a_manager_takes_a_firm_from_the_reserve_pool_to_certification_and_the_listing_pool(
    client, login_as
):
    home = factories.district("450403")
    manager = login_as("manager", districts=[home], name="韦专员")
    firm = factories.make_firm(name="梧州登高科技有限公司", district=home)
    for year in (2023, 2024, 2025):
        factories.make_year(firm, year)
    batch = factories.make_batch(2026, opens_on=date(2026, 5, 21), closes_on=date(2026, 9, 5))
    db.session.commit()

    response = client.post(
        f"/pipeline/firms/{firm.id}/enroll",
        data={"programme": "hte", "enroll-hte-stage": "reserve"},
        follow_redirects=True,
    )
    assert "进入高企后备库需选择入库理由" in text_of(response)
    assert stage_of(firm.id, "hte") is None
    client.post(
        f"/pipeline/firms/{firm.id}/enroll",
        data={"programme": "hte", "enroll-hte-stage": "reserve", "enroll-hte-entry_reason": "6"},
    )
    assert stage_of(firm.id, "hte") == "reserve"

    # Coaching needs this year's plan with a measure and a responsible manager.
    assert "进入一企一策辅导需先制定本年度辅导方案" in text_of(
        move(client, firm.id, "hte", "coaching")
    )
    client.post(f"/coaching/firms/{firm.id}/plans", data={"year": "2026"})
    plan = db.session.scalar(select(CoachingPlan).where(CoachingPlan.firm_id == firm.id))
    assert plan.manager_id == manager.id  # the manager who starts a plan is responsible for it
    assert "辅导方案至少需要 1 项辅导措施" in text_of(move(client, firm.id, "hte", "coaching"))
    client.post(
        f"/coaching/plans/{plan.id}/measures",
        data={"new-title": "规范研发费用辅助账", "new-status": "planned"},
    )
    move(client, firm.id, "hte", "coaching", reason="入选本年度一企一策")
    assert stage_of(firm.id, "hte") == "coaching"

    # The application needs a batch open today.
    assert "申报需选择认定批次" in text_of(move(client, firm.id, "hte", "applied"))
    move(client, firm.id, "hte", "applied", batch=str(batch.id))
    assert stage_of(firm.id, "hte") == "applied"
    application = db.session.scalar(
        select(CertificationApplication).where(CertificationApplication.firm_id == firm.id)
    )
    assert application.batch_id == batch.id and application.assessment_snapshot

    # The results come in on the batch page: under review, then certified.
    results = f"/certification/batches/{batch.id}/results"
    line = f"app-{application.id}"
    client.post(results, data={"result_on": "2026-07-01", f"{line}-result": "review"})
    assert stage_of(firm.id, "hte") == "review"
    page = text_of(
        client.post(
            results,
            data={
                "result_on": "2026-07-01",
                f"{line}-result": "certified",
                f"{line}-certificate_number": "GR202645000777",
                f"{line}-issued_on": "2026-07-01",
            },
        )
    )
    assert "已记录 1 家企业的结果" in page
    assert stage_of(firm.id, "hte") == "certified"
    certificate = db.session.scalar(select(Certificate).where(Certificate.firm_id == firm.id))
    assert (certificate.issued_on, certificate.number) == (date(2026, 7, 1), "GR202645000777")
    db.session.refresh(application)
    assert application.expires_on == date(2029, 6, 30)

    # Re-applying before the expiry year is refused; joining the listing pool is not.
    refused = text_of(move(client, firm.id, "hte", "applied", batch=str(batch.id)))
    assert "到期当年方可重新申报" in refused
    client.post(
        f"/pipeline/firms/{firm.id}/enroll",
        data={"programme": "listing", "enroll-listing-stage": "pool"},
    )
    assert stage_of(firm.id, "listing") == "pool"
    assert stage_of(firm.id, "hte") == "certified"

    timeline = text_of(client.get(f"/firms/{firm.id}?tab=timeline"))
    steps = [
        "加入高企培育（高企后备库）",
        "高企培育：高企后备库 → 一企一策辅导",
        "高企培育：一企一策辅导 → 已申报",
        "高企培育：已申报 → 评审/公示中",
        "高企培育：评审/公示中 → 已认定高企",
        "认定为高新技术企业",
        "加入上市后备（入库培育）",
        "新建一企一策方案",
    ]
    for step in steps:
        assert step in timeline, step
    # The first certification earns the award its subsidy rule gives, as a claimable entry.
    kinds = {e.kind for e in db.session.scalars(select(SupportEntry))}
    assert "hte_award" in kinds
