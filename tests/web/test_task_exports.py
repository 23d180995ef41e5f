"""The task lists' exports: a coaching plan's measures, a user's reminders and the import history,
each holding the rows its page shows, to whom the page shows them."""

from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from crm.coaching import services as coaching
from crm.core import clock
from crm.excel.models import ImportBatch
from crm.extensions import db
from crm.jobs import files, queue
from crm.jobs.models import Job
from tests import factories
from tests.downloads import page_of, rows_of
from tests.services.test_report_delivery import run_jobs

NOW = datetime(2026, 6, 15, 2, 0)  # 10:00 in the bureau, Monday 15 June 2026
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _setting(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


# --- A coaching plan's measures ------------------------------------------------------------------


@pytest.fixture
def plan_world():
    home, other = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager", districts=[home])
    firm = factories.make_firm(name="梧州措施科技有限公司", district=home)
    elsewhere = factories.make_firm(district=other)
    db.session.commit()
    plan = coaching.create_plan(firm, 2026, manager)
    coaching.add_measure(plan, {"title": "建立研发费用辅助账", "owner": "财务部"})
    coaching.add_measure(
        plan,
        {
            "title": '=HYPERLINK("http://x","申报")',
            "owner": "总经理",
            "due_on": date(2026, 9, 30),
            "status": "done",
            "result": "已提交",
            "done_on": date(2026, 6, 1),
        },
    )
    coaching.add_measure(plan, {"title": "申请发明专利", "due_on": date(2026, 7, 1)})
    other_plan = coaching.create_plan(elsewhere, 2026, factories.make_user("manager"))
    coaching.add_measure(other_plan, {"title": "别家的措施"})
    db.session.commit()
    return {"manager": manager, "plan": plan, "other_plan": other_plan, "firm": firm}


def test_a_plan_exports_its_measures_in_the_page_order(client, login_as, plan_world):
    login_as(user=plan_world["manager"])
    plan = plan_world["plan"]
    rows = rows_of(client.get(f"/reports/export/coaching_measures?plan={plan.id}"))
    assert rows[0] == [
        "企业名称",
        "统一社会信用代码",
        "方案年度",
        "措施",
        "责任人",
        "完成时限",
        "状态",
        "结果",
        "完成日期",
    ]
    # Dated measures first by their date, then the undated: the plan page's order.
    assert [row[3] for row in rows[1:]] == [
        "申请发明专利",
        '=HYPERLINK("http://x","申报")',
        "建立研发费用辅助账",
    ]
    done = rows[2]
    assert done[0] == "梧州措施科技有限公司" and done[1] == plan_world["firm"].uscc
    assert done[2] == 2026 and done[4] == "总经理" and done[6] == "已完成"
    assert done[5] == datetime(2026, 9, 30) and done[8] == datetime(2026, 6, 1)
    assert rows[3][4] == "财务部" and rows[3][6] == "未开始" and rows[3][5] is None


def test_the_plan_page_links_to_its_measures(client, login_as, plan_world):
    login_as(user=plan_world["manager"])
    plan = plan_world["plan"]
    html = page_of(client, f"/coaching/plans/{plan.id}")
    assert f'href="/reports/export/coaching_measures?plan={plan.id}"' in html


def test_a_plan_out_of_reach_or_missing_has_no_export(client, login_as, plan_world):
    login_as(user=plan_world["manager"])
    other = plan_world["other_plan"]
    assert client.get(f"/reports/export/coaching_measures?plan={other.id}").status_code == 404
    assert client.get("/reports/export/coaching_measures").status_code == 404
    assert client.get("/reports/export/coaching_measures?plan=abc").status_code == 404


def test_an_enterprise_user_exports_no_measures(client, login_as, plan_world):
    login_as("enterprise", firm_id=plan_world["firm"].id)
    plan = plan_world["plan"]
    assert client.get(f"/reports/export/coaching_measures?plan={plan.id}").status_code == 404


# --- A user's reminders ----------------------------------------------------------------------


@pytest.fixture
def reminder_world():
    manager = factories.make_user("manager")
    colleague = factories.make_user("manager")
    firm = factories.make_firm(name="梧州提醒科技有限公司")
    overdue = factories.make_reminder(manager, "measure_due", firm, TODAY - timedelta(days=3))
    later = factories.make_reminder(manager, "cert_expiring", firm, TODAY + timedelta(days=40))
    snoozed = factories.make_reminder(
        manager, "measure_due", firm, TODAY, snoozed_until=TODAY + timedelta(days=2)
    )
    done = factories.make_reminder(
        manager, "measure_due", firm, TODAY - timedelta(days=1), done_at=NOW, read_at=NOW
    )
    factories.make_reminder(colleague, "measure_due", firm, TODAY)
    to_firm = factories.make_reminder(firm, "annual_report", None, date(2026, 5, 31))
    db.session.commit()
    return {
        "manager": manager,
        "firm": firm,
        "overdue": overdue,
        "later": later,
        "snoozed": snoozed,
        "done": done,
        "to_firm": to_firm,
    }


def test_a_user_exports_their_reminders_group_by_group(client, login_as, reminder_world):
    login_as(user=reminder_world["manager"])
    rows = rows_of(client.get("/reports/export/reminders"))
    assert rows[0] == ["分组", "提醒事项", "企业", "提醒节点", "期限", "状态", "提醒时间"]
    w = reminder_world
    listed = [(row[0], row[1], row[4], row[5]) for row in rows[1:]]
    assert listed == [
        ("今天", w["overdue"].label, datetime(2026, 6, 12), "未读"),
        ("以后", w["snoozed"].label, datetime(2026, 6, 15), "已推迟至 2026-06-17"),
        ("以后", w["later"].label, datetime(2026, 7, 25), "未读"),
        ("已完成（近 30 天）", w["done"].label, datetime(2026, 6, 14), "已完成"),
    ]
    assert all(row[2] == "梧州提醒科技有限公司" for row in rows[1:])
    # Made at 02:00 UTC, written as the bureau's 10:00.
    assert rows[1][6] == datetime(2026, 6, 15, 10, 0)


def test_the_reminders_export_keeps_the_kind_filter(client, login_as, reminder_world):
    login_as(user=reminder_world["manager"])
    html = page_of(client, "/notifications?kind=cert_expiring")
    assert 'href="/reports/export/reminders?kind=cert_expiring"' in html
    rows = rows_of(client.get("/reports/export/reminders?kind=cert_expiring"))
    assert [row[1] for row in rows[1:]] == [reminder_world["later"].label]


def test_many_reminders_are_exported_by_a_job_for_their_recipient(
    app, client, login_as, reminder_world, monkeypatch
):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 2)
    login_as(user=reminder_world["manager"])
    response = client.get("/reports/export/reminders")
    assert response.status_code == 302 and response.location.startswith("/jobs/")
    run_jobs()
    job = db.session.get(Job, int(response.location.rsplit("/", 1)[1]))
    assert job.status == "done" and job.result_name == "提醒事项_20260615.xlsx"
    sheet = load_workbook(files.result_path(job)).active
    assert sheet.max_row == 5


def test_an_enterprise_user_exports_no_reminders(client, login_as, reminder_world):
    # The notification centre is the bureau's: not there for a firm's users (their reminders
    # are on the portal's home), nor is its export, even of their own firm's reminders.
    login_as("enterprise", firm_id=reminder_world["firm"].id)
    assert client.get("/reports/export/reminders").status_code == 404
    assert client.get("/reports/export/reminders?kind=cert_expiring").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


# --- The import history ----------------------------------------------------------------------


def _batch(user, filename: str, **values) -> ImportBatch:
    batch = ImportBatch(
        kind="firms",
        filename=filename,
        stored_path="x.xlsx",
        options={},
        created_by_id=user.id,
        **values,
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def test_the_import_history_exports_what_the_page_lists(client, login_as):
    manager, colleague = factories.make_user("manager"), factories.make_user("manager")
    counts = {"create": 3, "update": 2, "rename": 1, "unchanged": 4, "rejected": 5}
    applied = _batch(manager, "=梧州名单.xlsx", status="applied", counts=counts)
    failing = _batch(manager, "第二份.xlsx")
    job = queue.enqueue("import.preview", {"batch_id": failing.id}, manager)
    failing.job_id = job.id
    job.status = "failed"
    _batch(colleague, "别人的.xlsx")
    db.session.commit()

    login_as(user=manager)
    assert 'href="/reports/export/import_batches"' in page_of(client, "/imports/")
    rows = rows_of(client.get("/reports/export/import_batches"))
    assert rows[0] == [
        "批次",
        "文件",
        "类型",
        "上传时间",
        "上传人",
        "状态",
        "新建",
        "更新",
        "无变化",
        "有错误",
    ]
    assert [row[1] for row in rows[1:]] == ["第二份.xlsx", "=梧州名单.xlsx"]
    assert rows[1][0] == failing.id and rows[1][5] == "导入预检失败"
    # A file name that looks like a formula is written as text.
    sheet = load_workbook(BytesIO(client.get("/reports/export/import_batches").get_data())).active
    assert sheet["B3"].value == "=梧州名单.xlsx" and sheet["B3"].data_type == "s"
    assert rows[2][0] == applied.id
    assert rows[2][2:] == [
        "企业名单",
        datetime(2026, 6, 15, 10, 0),
        manager.name,
        "已导入",
        3,
        3,
        4,
        5,
    ]


def test_an_administrator_exports_every_batch(client, login_as):
    manager = factories.make_user("manager")
    _batch(manager, "一.xlsx")
    _batch(factories.make_user("manager"), "二.xlsx")
    db.session.commit()
    login_as("admin")
    rows = rows_of(client.get("/reports/export/import_batches"))
    assert [row[1] for row in rows[1:]] == ["二.xlsx", "一.xlsx"]


@pytest.mark.parametrize("role", ["bureau_head", "enterprise"])
def test_who_does_not_import_exports_no_history(client, login_as, role):
    login_as(role)
    assert client.get("/reports/export/import_batches").status_code == 404
