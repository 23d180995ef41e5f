"""Official lists put their firms into a stage: the certified stock, a county's reserve pool."""

from datetime import date

import pytest
from sqlalchemy import func, select

from crm.certification import queries as certification_queries
from crm.dashboard import funnel
from crm.excel.models import ImportRow
from crm.excel.stored import Describer
from crm.excel.undo import UndoRefused, undo_batch
from crm.extensions import db
from crm.firms.models import Certificate
from crm.pipeline.models import Enrollment, StageTransition
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from tests import factories
from tests.services.test_imports import _frozen_clock, apply, preview, workbook  # noqa: F401


def _enrollment(firm) -> Enrollment | None:
    return db.session.scalar(
        select(Enrollment).filter_by(firm_id=firm.id).where(Enrollment.closed_on.is_(None))
    )


def _rows(batch) -> dict[int, ImportRow]:
    found = db.session.scalars(select(ImportRow).filter_by(batch_id=batch.id))
    return {row.row_number: row for row in found}


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {action: count for action, count in counts.items() if count}


def _messages(row: ImportRow) -> list[str]:
    return [message for _, _, message in row.issues or []]


def _stock_list(tmp_path, *rows):
    header = ["序号", "企业名称", "统一社会信用代码", "证书编号", "发证日期"]
    body = [
        [n, firm.name, firm.uscc, number, issued] for n, (firm, number, issued) in enumerate(rows)
    ]
    return workbook(tmp_path, [["高新技术企业名单"], header, *body], name="高企存量.xlsx")


def test_the_stock_list_enrols_firms_in_no_programme_as_certified_and_undo_removes_it(tmp_path):
    firm = factories.make_firm(name="梧州存量高企有限公司")
    db.session.commit()
    path = _stock_list(tmp_path, (firm, "GR202345000123", "2023-12-08"))
    batch, plan = preview(path, kind="qualifications", tier="hte")
    [row] = _rows(batch).values()
    assert ("培育阶段", None, "已认定高企") in Describer().changes(row.writes)
    assert ("转入日期", None, "2023-12-08") in Describer().changes(row.writes)
    apply(batch, plan)

    enrollment = _enrollment(firm)
    assert (enrollment.stage.code, enrollment.opened_on) == ("certified", date(2023, 12, 8))
    [transition] = enrollment.transitions
    assert transition.source == f"import:{batch.id}"
    assert (transition.document_number, transition.document_on) == (
        "GR202345000123",
        date(2023, 12, 8),
    )
    certificate = db.session.scalar(select(Certificate).filter_by(firm_id=firm.id))
    assert certificate.transition_id == transition.id
    # The firm is in the re-certification cohort of its expiry year, 2026.
    admin = factories.make_user("admin")
    cohort = certification_queries.cohort(admin, certification_queries.CohortFilters(2026))
    assert [c.firm_id for c in cohort] == [firm.id]
    # ... and among the certificates expiring that year.
    [expiring] = funnel.certificates_expiring([2026])
    assert expiring.certificates == 1

    again, _ = preview(path, kind="qualifications", tier="hte")
    assert _nonzero(again.counts) == {"unchanged": 1}

    undo_batch(batch, None)
    db.session.commit()
    assert _enrollment(firm) is None
    assert db.session.scalar(select(func.count(StageTransition.id))) == 0
    assert db.session.scalar(select(Certificate).filter_by(firm_id=firm.id)) is None


def test_the_stock_list_leaves_firms_in_a_programme_and_expired_certificates_where_they_are(
    tmp_path,
):
    manager = factories.make_user("manager", districts=[factories.district()])
    pooled = factories.make_firm(name="梧州后备库企业有限公司", manager=manager)
    expired = factories.make_firm(name="梧州过期高企有限公司")
    db.session.commit()
    enroll_firm(pooled, "hte", "prospect", MoveInputs(), manager)
    db.session.commit()
    path = _stock_list(
        tmp_path,
        (pooled, "GR202545000001", "2025-12-01"),
        (expired, "GR202245000002", "2022-12-01"),
    )
    batch, plan = preview(path, kind="qualifications", tier="hte")
    rows = _rows(batch)
    assert any("处于「意向企业」阶段，阶段未变更" in m for m in _messages(rows[3]))
    apply(batch, plan)
    assert _enrollment(pooled).stage.code == "prospect"
    assert _enrollment(expired) is None
    assert db.session.scalar(select(func.count(Certificate.id))) == 2


def _reserve_list(tmp_path, *rows, reasons=True):
    header = ["序号", "企业名称", "统一社会信用代码", "入库理由", "入库日期", "文号"]
    body = [
        [n, firm.name, firm.uscc, reason, moved_on, "梧科发〔2026〕8号"]
        for n, (firm, reason, moved_on) in enumerate(rows, start=1)
    ]
    if not reasons:
        header = header[:3] + header[4:]
        body = [row[:3] + row[4:] for row in body]
    return workbook(tmp_path, [["2026年高企后备库入库企业名单"], header, *body], name="后备库.xlsx")


def test_a_county_reserve_list_pools_its_firms_moves_prospects_and_keeps_firms_further_on(
    tmp_path,
):
    manager = factories.make_user("manager", districts=[factories.district()])
    head = factories.make_user("bureau_head")
    new = factories.make_firm(name="梧州新入库企业有限公司", manager=manager)
    prospect = factories.make_firm(name="梧州意向企业有限公司", manager=manager)
    coached = factories.make_firm(name="梧州辅导企业有限公司", manager=manager)
    db.session.commit()
    enroll_firm(prospect, "hte", "prospect", MoveInputs(moved_on=date(2026, 2, 1)), manager)
    enrollment = enroll_firm(
        coached, "hte", "reserve", MoveInputs(entry_reason=4), head, override_reason="测试"
    ).enrollment
    move_firm(enrollment, "coaching", MoveInputs(), head, override_reason="测试")
    db.session.commit()
    path = _reserve_list(
        tmp_path,
        (new, "已入库科技型中小企业（非高企）", "2026-03-15"),
        (prospect, 6, "2026-01-10"),
        (coached, 4, "2026-03-15"),
    )
    batch, plan = preview(path, kind="reserve")
    assert _nonzero(batch.counts) == {"create": 1, "update": 1, "unchanged": 1}
    rows = _rows(batch)
    assert ("培育阶段", "意向企业", "高企后备库") in Describer().changes(rows[4].writes)
    assert any("早于企业上一次阶段变更（2026-02-01）" in m for m in _messages(rows[4]))
    assert any("处于「一企一策辅导」阶段，未转入高企后备库" in m for m in _messages(rows[5]))
    apply(batch, plan)

    pooled = _enrollment(new)
    assert (pooled.stage.code, pooled.entry_reason, pooled.opened_on) == (
        "reserve",
        4,
        date(2026, 3, 15),
    )
    moved = _enrollment(prospect)
    assert (moved.stage.code, moved.entry_reason) == ("reserve", 6)
    assert moved.transitions[-1].moved_on == date(2026, 2, 1)
    assert moved.transitions[-1].document_number == "梧科发〔2026〕8号"
    assert _enrollment(coached).stage.code == "coaching"

    again, _ = preview(path, kind="reserve")
    assert _nonzero(again.counts) == {"unchanged": 3}

    undo_batch(batch, None)
    db.session.commit()
    assert _enrollment(new) is None
    db.session.refresh(moved)
    assert (moved.stage.code, moved.entry_reason) == ("prospect", None)
    assert [t.to_stage.code for t in moved.transitions] == ["prospect"]


def test_a_reserve_list_without_reasons_takes_the_one_chosen_or_says_what_is_missing(tmp_path):
    firm = factories.make_firm(name="梧州无理由企业有限公司", tech_field=None)
    db.session.commit()
    path = _reserve_list(tmp_path, (firm, None, "2026-03-15"), reasons=False)
    batch, _ = preview(path, kind="reserve")
    [row] = _rows(batch).values()
    assert row.action == "rejected"
    assert _messages(row) == [
        "企业未填写技术领域，入库后请在企业页补充",
        "缺少入库理由：请增加「入库理由」列或在导入时选择入库理由",
    ]

    batch, plan = preview(path, kind="reserve", entry_reason="5")
    apply(batch, plan)
    assert (_enrollment(firm).stage.code, _enrollment(firm).entry_reason) == ("reserve", 5)


def test_undo_of_a_reserve_list_is_refused_once_a_pooled_firm_moved_on(tmp_path):
    head = factories.make_user("bureau_head")
    firm = factories.make_firm(name="梧州已推进企业有限公司")
    db.session.commit()
    batch, plan = preview(_reserve_list(tmp_path, (firm, 4, "2026-03-15")), kind="reserve")
    apply(batch, plan)
    move_firm(_enrollment(firm), "coaching", MoveInputs(), head, override_reason="测试")
    db.session.commit()
    with pytest.raises(UndoRefused) as refused:
        undo_batch(batch, None)
    assert any("培育记录" in reason for reason in refused.value.reasons), refused.value.reasons
