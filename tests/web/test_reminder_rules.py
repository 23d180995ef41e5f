"""The reminder-rules admin pages: who sees them, validation in Chinese, CSRF, new versions."""

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.extensions import db
from crm.reminders.models import ReminderRule, ReminderRuleVersion
from crm.reminders.services import rule_in_force

TODAY = date(2026, 4, 1)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(datetime(2026, 4, 1, 2, 0)):
        yield


def rule(code: str) -> ReminderRule:
    return db.session.scalar(select(ReminderRule).filter_by(code=code))


def url(code: str) -> str:
    return f"/admin/reminder-rules/{rule(code).id}/new"


@pytest.mark.parametrize(
    ("role", "list_status", "new_status"),
    [
        ("admin", 200, 200),
        ("bureau_head", 200, 403),
        ("manager", 403, 403),
        ("enterprise", 404, 404),  # the bureau's pages are not there for a firm's users
    ],
)
def test_who_may_see_and_change_the_rules(client, login_as, role, list_status, new_status):
    login_as(role)
    assert client.get("/admin/reminder-rules").status_code == list_status
    assert client.get(url("measure_due")).status_code == new_status
    assert client.post(url("measure_due"), data={}).status_code == new_status


def test_the_list_shows_every_rule_in_chinese(client, login_as):
    login_as("bureau_head")
    page = client.get("/admin/reminder-rules").get_data(as_text=True)
    for label in (
        "高企证书即将到期",
        "高企年度发展情况报表",
        "火炬统计年报",
        "高企认定申报窗口",
        "辅导措施到期",
        "长期未联系",
        "变更事项报告",
        "科技型中小企业重新评价入库",
        "上市扶持资金可申领",
        "认定结果未录入",
        "走访后续事项到期",
    ):
        assert label in page
    assert "到期前天数：180、90、30" in page
    assert '/new"' not in page  # a bureau head reads only


def _post(client, code: str, **changes):
    data = {
        "effective_on": "2026-04-02",
        "enabled": "y",
        "offsets": "10, 3",
        "overdue": "y",
        "recipients": ["owner", "manager"],
        "note": "缩短提前量",
    }
    data.update(changes)
    return client.post(url(code), data={k: v for k, v in data.items() if v is not None})


def test_an_admin_adds_a_version_used_from_its_date(app, client, login_as):
    admin = login_as("admin")
    response = _post(client, "measure_due")
    assert response.status_code == 302, response.get_data(as_text=True)
    measure = rule("measure_due")
    assert rule_in_force(measure, TODAY).settings.offsets == (7, 0)
    settings = rule_in_force(measure, date(2026, 4, 2)).settings
    assert settings.offsets == (10, 3)
    assert settings.recipients == ("owner", "manager")
    version = rule_in_force(measure, date(2026, 4, 2)).version
    assert version.created_by_id == admin.id and version.note == "缩短提前量"
    page = client.get(url("measure_due")).get_data(as_text=True)
    assert "待施行" in page and "缩短提前量" in page
    # Versions are numbered within their rule, newest first: 第 2 版 (to come), then 第 1 版.
    rows = page.split("<tbody>")[1]
    assert rows.index("第 2 版") < rows.index("第 1 版") and "第 3 版" not in rows


def test_an_admin_switches_a_rule_off(client, login_as):
    login_as("admin")
    assert (
        _post(
            client, "no_contact", enabled=None, offsets="90", overdue=None, recipients=["manager"]
        ).status_code
        == 302
    )
    assert rule_in_force(rule("no_contact"), date(2026, 4, 2)).settings.enabled is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"offsets": "七天"}, "“七天”不是天数"),
        ({"offsets": ""}, "请至少填写一个天数"),
        ({"offsets": "99999"}, "天数 99999 过大"),
        ({"recipients": []}, "请至少选择一类接收人"),
        ({"note": ""}, "请说明本次调整的依据"),
        ({"effective_on": "2026-02-30"}, "日期"),
    ],
)
def test_bad_settings_are_refused_in_chinese(client, login_as, changes, message):
    login_as("admin")
    before = db.session.query(ReminderRuleVersion).count()
    response = _post(client, "measure_due", **changes)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.query(ReminderRuleVersion).count() == before


def test_a_month_and_day_is_read_for_the_tech_sme_window(client, login_as):
    login_as("admin")
    response = _post(
        client,
        "tech_sme_registration",
        offsets=None,
        overdue=None,
        month_day="2-30",
        recipients=["firm"],
    )
    assert "不是有效的月日" in response.get_data(as_text=True)
    response = _post(
        client,
        "tech_sme_registration",
        offsets=None,
        overdue=None,
        month_day="4-1",
        recipients=["firm"],
    )
    assert response.status_code == 302
    settings = rule_in_force(rule("tech_sme_registration"), date(2026, 4, 2)).settings
    assert settings.month_day == "04-01"


def test_a_post_without_the_csrf_token_is_refused(app, client, login_as):
    login_as("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    before = db.session.query(ReminderRuleVersion).count()
    assert _post(client, "measure_due").status_code == 400
    assert db.session.query(ReminderRuleVersion).count() == before
    page = client.get(url("measure_due")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert _post(client, "measure_due", csrf_token=token).status_code == 302
