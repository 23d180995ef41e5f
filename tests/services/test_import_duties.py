"""The national system's list of firms that filed marks their yearly reports."""

from datetime import date

from sqlalchemy import select

from crm.certification import duties
from crm.certification.models import Duty
from crm.excel.models import ImportRow
from crm.excel.undo import undo_batch
from crm.extensions import db
from tests import factories
from tests.services.test_imports import _frozen_clock, apply, preview, workbook  # noqa: F401


def _messages(batch) -> dict[int, list[str]]:
    rows = db.session.scalars(select(ImportRow).filter_by(batch_id=batch.id))
    return {row.row_number: [m for _, _, m in row.issues or []] for row in rows}


def _report(firm) -> Duty | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Duty).filter_by(firm_id=firm.id, kind="annual_report", year=2025)
    )


def _national_list(tmp_path, *rows, header=("统一社会信用代码", "企业名称", "填报状态")):
    return workbook(tmp_path, [list(header), *[list(row) for row in rows]], name="年报.xlsx")


def test_a_list_of_codes_marks_the_reports_and_undo_takes_the_marks_back(tmp_path):
    due, marked, uncertified, missing = (
        factories.make_firm(name=name)
        for name in ("待报企业", "已标记企业", "无证书企业", "未报企业")
    )
    for firm in (due, marked, missing):
        factories.make_certificate(firm, date(2024, 4, 1))
    duties.open_duties(2025, date(2026, 1, 2))
    duties.mark_filed([_report(marked)], date(2026, 5, 10), None)
    db.session.commit()
    path = _national_list(
        tmp_path,
        (due.uscc, due.name, "已提交"),
        (marked.uscc, marked.name, "已提交"),
        (uncertified.uscc, uncertified.name, "已提交"),
        (missing.uscc, missing.name, "未提交"),
    )
    batch, plan = preview(path, kind="duties", duty_kind="annual_report", year=2025)
    messages = _messages(batch)
    assert batch.counts["update"] == 1 and batch.counts["create"] == 1
    assert "未提供填报日期，按 2026-05-31 计" in messages[2]
    assert "系统已记录于 2026-05-10 填报，未作修改" in messages[3]
    assert any("2025 年末没有有效的高企证书" in m for m in messages[4])
    assert "名单显示该企业未填报，本行不作标记" in messages[5]
    apply(batch, plan)
    assert _report(due).filed_on == date(2026, 5, 31)
    assert _report(marked).filed_on == date(2026, 5, 10)
    assert _report(uncertified).filed_on == date(2026, 5, 31)
    assert _report(missing).filed_on is None

    again, _ = preview(path, kind="duties", duty_kind="annual_report", year=2025)
    assert again.counts["unchanged"] == 4

    undo_batch(batch, None)
    db.session.commit()
    assert _report(due).filed_on is None
    assert _report(uncertified) is None
    assert _report(marked).filed_on == date(2026, 5, 10)


def test_a_list_names_its_report_and_year_or_the_import_must(tmp_path):
    firm = factories.make_firm(name="年度不明企业")
    db.session.commit()
    path = _national_list(tmp_path, (firm.uscc, firm.name, "已填报"))
    batch, _ = preview(path, kind="duties")
    assert _messages(batch)[2] == [
        "缺少报表类型：请增加「报表」列或在导入时选择",
        "缺少报告年度：请增加「报告年度」列或在导入时选择",
    ]
    dated = _national_list(
        tmp_path,
        (firm.uscc, "火炬统计", 2026, "2026-03-01"),
        header=("统一社会信用代码", "报表类型", "统计年度", "提交日期"),
    )
    batch, _ = preview(dated, kind="duties")
    assert _messages(batch)[2] == ["2026 年度尚未结束，不能填报该年度的年报"]
