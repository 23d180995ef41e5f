"""List exports delivered: built in the request when small, by a job with progress when large."""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from crm.core import clock, exports
from crm.core.exports import Column, ListExport
from crm.extensions import db
from crm.firms.access import visible_firms
from crm.firms.models import Firm
from crm.jobs import files, queue
from crm.jobs.models import Job
from crm.reports import delivery
from tests import factories

NOW = datetime(2026, 6, 15, 2, 0)


def _rows(user, args):
    stmt = visible_firms(user).order_by(Firm.name, Firm.id)
    if args.get("q"):
        stmt = stmt.where(Firm.name.contains(args["q"]))
    return db.session.scalars(stmt)


def _count(user, args):
    return len(list(_rows(user, args)))


TOY = ListExport(
    name="toy-firms",
    filename="测试名单",
    sheet="企业",
    columns=(
        Column("name", "企业名称", "text", 30, lambda f: f.name),
        Column("uscc", "统一社会信用代码", "code", 22, lambda f: f.uscc),
        Column("capital", "注册资本（万元）", "money_wan", 14, lambda f: f.registered_capital),
        Column("established_on", "成立日期", "date", 12, lambda f: f.established_on),
        Column("above", "规上企业", "bool", 8, lambda f: f.is_above_scale),
    ),
    rows=_rows,
    count=_count,
    allowed=lambda user: user.is_staff,
)


@pytest.fixture(autouse=True)
def _setting(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    monkeypatch.setitem(exports._exports, TOY.name, TOY)
    with clock.frozen(NOW):
        yield


def run_jobs() -> None:
    while (job := queue.claim_next("test-worker")) is not None:
        queue.run_job(job.id, "test-worker")
    db.session.expire_all()


def two_firms():
    factories.make_firm(name="梧州乙公司", registered_capital=Decimal("1234567.89"))
    factories.make_firm(name="梧州甲公司", is_above_scale=True, established_on=date(2020, 1, 2))
    db.session.commit()


def values(sheet):
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_a_small_export_is_sent_at_once_under_its_chinese_name(app):
    two_firms()
    user = factories.make_user("admin")
    with app.test_request_context("/"):
        response = delivery.deliver(TOY, user, {})
    assert response.status_code == 200
    response.direct_passthrough = False
    disposition = unquote(response.headers["Content-Disposition"])
    assert "UTF-8''测试名单_20260615.xlsx" in disposition
    sheet = load_workbook(BytesIO(response.get_data())).active
    rows = values(sheet)
    assert rows[0] == ["企业名称", "统一社会信用代码", "注册资本（万元）", "成立日期", "规上企业"]
    assert [r[0] for r in rows[1:]] == ["梧州乙公司", "梧州甲公司"]
    # 1,234,567.89 yuan is 123.456789 万元, every digit kept, shown with two decimals.
    assert rows[1][2] == 123.456789 and sheet["C2"].number_format == "#,##0.00"
    assert sheet["B2"].number_format == "@" and sheet["B2"].data_type == "s"
    assert rows[2][3] == datetime(2020, 1, 2) and rows[2][4] == "是" and rows[1][4] == "否"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E3"
    assert db.session.scalar(select(func.count(Job.id))) == 0


def test_a_large_export_runs_as_a_job_with_progress_and_a_download(app):
    two_firms()
    app.config["EXPORT_INLINE_ROWS"] = 1
    user = factories.make_user("admin")
    db.session.commit()
    with app.test_request_context("/"):
        response = delivery.deliver(TOY, user, {"q": "梧州"})
    job = db.session.scalars(select(Job)).one()
    assert response.status_code == 302 and response.location == f"/jobs/{job.id}"
    assert job.kind == delivery.EXPORT_JOB and job.created_by_id == user.id
    assert job.payload == {"list": "toy-firms", "args": [["q", "梧州"]]}
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == "done" and job.progress == 100
    assert job.result_name == "测试名单_20260615.xlsx"
    sheet = load_workbook(files.result_path(job)).active
    assert [r[0] for r in values(sheet)] == ["企业名称", "梧州乙公司", "梧州甲公司"]


def test_the_job_builds_the_rows_its_creator_may_see_with_the_stored_filters(app):
    two_firms()
    app.config["EXPORT_INLINE_ROWS"] = 0
    manager = factories.make_user("manager")
    mine = factories.make_firm(name="梧州专员甲公司", manager=manager)
    db.session.commit()
    with app.test_request_context("/"):
        delivery.deliver(TOY, manager, {"q": "甲"})
    run_jobs()
    job = db.session.scalars(select(Job)).one()
    sheet = load_workbook(files.result_path(job)).active
    assert [r[0] for r in values(sheet)] == ["企业名称", mine.name]


def test_access_is_checked_again_when_the_job_runs(app):
    two_firms()
    app.config["EXPORT_INLINE_ROWS"] = 0
    user = factories.make_user("admin")
    db.session.commit()
    with app.test_request_context("/"):
        delivery.deliver(TOY, user, {})
    user.is_active = False
    db.session.commit()
    run_jobs()
    job = db.session.scalars(select(Job)).one()
    assert job.status == "failed" and job.message == "您无权导出此名单"
    assert files.result_path(job) is None
