"""The work lists' exports: each holds the rows its page shows, with the page's filters and sort,
to whom the page shows them."""

import re
from datetime import date, datetime
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import delete, select

from crm.core import clock
from crm.eligibility.models import Assessment
from crm.extensions import db
from crm.pipeline.services import MoveInputs, enroll_firm
from crm.support import services as support_services
from tests import factories
from tests.downloads import page_of, rows_of
from tests.web.eligibility_world import NOW, make_world


@pytest.fixture(autouse=True)
def _setting(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


# --- The readiness list --------------------------------------------------------------------------


@pytest.fixture
def readiness_world(app):
    home, away = factories.district("450403"), factories.district("450405")
    firms = make_world(district=home)
    elsewhere = factories.make_firm(name="丁级外区科技有限公司", district=away)
    db.session.commit()
    db.session.execute(delete(Assessment).where(Assessment.firm_id == elsewhere.id))
    db.session.commit()
    return {**firms, "home": home, "elsewhere": elsewhere}


def readiness_names(html: str) -> list[str]:
    return re.findall(r'tab=assessment">([^<]+)</a>', html)


@pytest.mark.parametrize("query", ["", "sort=-score_min", "verdict=none", "verdict=pass&sort=name"])
def test_the_readiness_export_holds_the_pages_rows_in_its_order(
    client, login_as, readiness_world, query
):
    login_as("admin")
    shown = readiness_names(page_of(client, f"/eligibility/?{query}"))
    rows = rows_of(client.get(f"/reports/export/readiness?{query}"))
    assert rows[0][:5] == ["企业名称", "统一社会信用代码", "区县", "服务专员", "结论"]
    assert [r[0] for r in rows[1:]] == shown and shown


def test_the_readiness_export_writes_scores_gaps_and_codes(client, login_as, readiness_world):
    login_as("admin")
    rows = rows_of(client.get("/reports/export/readiness"))
    by_name = {r[0]: r for r in rows[1:]}
    firm = readiness_world["fail"]
    assessment = db.session.scalars(
        select(Assessment).where(Assessment.firm_id == firm.id, Assessment.is_current)
    ).one()
    row = by_name[firm.name]
    assert row[1] == firm.uscc and row[2] == readiness_world["home"].name
    assert row[4:7] == ["暂不符合", assessment.score_min, assessment.score_max]
    assert row[7] == pytest.approx(float(assessment.largest_gap)) and row[7] > 0
    assert row[8] == assessment.result["gaps"][0]["message"]
    assert by_name[readiness_world["elsewhere"].name][4:6] == ["尚未评估", None]


def test_a_manager_exports_only_the_readiness_of_his_firms(client, login_as, readiness_world):
    manager = factories.make_user("manager", districts=[readiness_world["home"]])
    login_as(user=manager)
    rows = rows_of(client.get("/reports/export/readiness"))
    names = {r[0] for r in rows[1:]}
    assert readiness_world["elsewhere"].name not in names and len(names) == 3


def test_the_readiness_page_links_to_its_export_with_its_filters(client, login_as, readiness_world):
    login_as("admin")
    assert 'href="/reports/export/readiness?verdict=pass"' in page_of(
        client, "/eligibility/?verdict=pass"
    )


def test_an_enterprise_user_exports_no_readiness(client, login_as, readiness_world):
    login_as("enterprise", firm=readiness_world["pass"])
    assert client.get("/reports/export/readiness").status_code == 404


# --- The support ledger --------------------------------------------------------------------------


@pytest.fixture
def ledger_world(app):
    home, away = factories.district("450403"), factories.district("450405")
    own = factories.make_firm(district=home, name="梧州本区科技有限公司")
    other = factories.make_firm(district=away, name="长洲外区科技有限公司")
    entries = [
        support_services.add_entry(own, {**values, "granted_on": granted_on})
        for values, granted_on in (
            (
                {"kind": "rd_subsidy", "title": "研发后补助", "amount": Decimal("123456.78")},
                date(2026, 4, 1),
            ),
            ({"kind": "rd_subsidy", "title": "=待定事项", "amount": None}, date(2026, 5, 2)),
            ({"kind": "voucher", "title": "创新券", "amount": Decimal("50000")}, date(2025, 3, 1)),
        )
    ]
    support_services.add_entry(
        other,
        {
            "kind": "rd_subsidy",
            "title": "外区补助",
            "amount": Decimal("1"),
            "granted_on": date(2026, 1, 1),
        },
    )
    db.session.commit()
    return {"home": home, "own": own, "other": other, "entries": entries}


def ledger_titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'<td class="title">([^<]*)</td>', html)]


@pytest.mark.parametrize("query", ["", "year=2026", "kind=voucher", "q=本区"])
def test_the_ledger_export_holds_the_pages_rows(client, login_as, ledger_world, query):
    login_as("admin")
    shown = ledger_titles(page_of(client, f"/support/?{query}"))
    rows = rows_of(client.get(f"/reports/export/support_ledger?{query}"))
    assert rows[0][:2] == ["日期", "企业"] and rows[0][6] == "金额（万元）"
    assert [r[5] for r in rows[1:]] == shown and shown


def test_the_ledger_export_writes_dates_wan_and_formulas_as_text(client, login_as, ledger_world):
    login_as("admin")
    rows = rows_of(client.get("/reports/export/support_ledger?q=本区&year=2026"))
    assert rows[1][:2] == [datetime(2026, 5, 2), ledger_world["own"].name]
    assert rows[1][5:7] == ["=待定事项", None]
    assert rows[2][6] == pytest.approx(12.345678) and rows[2][2] == ledger_world["own"].uscc


def test_a_manager_exports_only_his_ledger(client, login_as, ledger_world):
    login_as(user=factories.make_user("manager", districts=[ledger_world["home"]]))
    rows = rows_of(client.get("/reports/export/support_ledger"))
    assert {r[1] for r in rows[1:]} == {ledger_world["own"].name} and len(rows) == 4


def test_the_ledger_links_to_its_export_with_its_filters(client, login_as, ledger_world):
    login_as("admin")
    assert 'href="/reports/export/support_ledger?year=2026"' in page_of(
        client, "/support/?year=2026"
    )


def test_an_enterprise_user_exports_no_ledger(client, login_as, ledger_world):
    login_as("enterprise", firm=ledger_world["own"])
    assert client.get("/reports/export/support_ledger").status_code == 404


# --- The re-certification cohort -----------------------------------------------------------------


@pytest.fixture
def cohort_world(app):
    home, away = factories.district("450403"), factories.district("450405")
    firms = {
        "late": factories.make_firm(district=home, name="乙本区认定有限公司"),
        "early": factories.make_firm(district=home, name="甲本区认定有限公司"),
        "away": factories.make_firm(district=away, name="丙外区认定有限公司"),
        "next": factories.make_firm(district=home, name="丁明年到期有限公司"),
    }
    issued = {
        "late": date(2023, 12, 8),
        "early": date(2023, 3, 1),
        "away": date(2023, 12, 8),
        "next": date(2024, 5, 1),
    }
    for key, firm in firms.items():
        factories.make_certificate(firm, issued[key], f"GR2023{key.upper()}")
    db.session.commit()
    return {"home": home, "away_district": away, **firms}


def cohort_names(html: str) -> list[str]:
    return re.findall(r'tab=certification">([^<]+)</a>', html)


@pytest.mark.parametrize("query", ["", "year=2027", "district={away}"])
def test_the_cohort_export_holds_the_pages_rows_in_its_order(client, login_as, cohort_world, query):
    login_as("admin")
    query = query.format(away=cohort_world["away_district"].id)
    shown = cohort_names(page_of(client, f"/certification/cohort?{query}"))
    rows = rows_of(client.get(f"/reports/export/cohort?{query}"))
    assert rows[0][:4] == ["批次", "企业", "统一社会信用代码", "证书编号"]
    assert [r[1] for r in rows[1:]] == shown and shown


def test_the_cohort_export_writes_dates_days_and_the_reapplication(client, login_as, cohort_world):
    login_as("admin")
    rows = rows_of(client.get("/reports/export/cohort"))
    early = rows[1]
    assert early[0] == "2023 年认定、2026 年到期" and early[1] == cohort_world["early"].name
    assert early[3:7] == ["GR2023EARLY", datetime(2023, 3, 1), datetime(2026, 2, 28), -93]
    assert early[7] == cohort_world["home"].name and early[9] == "未申报"


def test_a_manager_exports_only_his_cohort(client, login_as, cohort_world):
    login_as(user=factories.make_user("manager", districts=[cohort_world["home"]]))
    rows = rows_of(client.get("/reports/export/cohort"))
    assert [r[1] for r in rows[1:]] == [cohort_world["early"].name, cohort_world["late"].name]


def test_an_enterprise_user_exports_no_cohort(client, login_as, cohort_world):
    login_as("enterprise", firm=cohort_world["early"])
    assert client.get("/reports/export/cohort").status_code == 404


def test_the_cohort_page_links_to_its_export_with_its_filters(client, login_as, cohort_world):
    login_as("admin")
    html = page_of(client, "/certification/cohort?year=2027")
    assert 'href="/reports/export/cohort?year=2027"' in html


# --- A column of the board -----------------------------------------------------------------------


@pytest.fixture
def board_world(app):
    home, away = factories.district("450403"), factories.district("450405")
    firms = {
        "甲": factories.make_firm(name="甲看板科技有限公司", district=home),
        "乙": factories.make_firm(name="乙看板科技有限公司", district=home),
        "丙": factories.make_firm(name="丙看板科技有限公司", district=home),
        "戊": factories.make_firm(name="戊看板科技有限公司", district=away),
    }
    db.session.commit()
    for key, firm in firms.items():
        stage = "reserve" if key == "丙" else "prospect"
        inputs = MoveInputs(moved_on=date(2026, 3, 2), entry_reason=4 if key == "丙" else None)
        enroll_firm(firm, "hte", stage, inputs, None)
    db.session.commit()
    return {"home": home, "away": away, **firms}


def column_names(html: str) -> list[str]:
    return re.findall(r'tab=pipeline">([^<]+)</a>', html)


@pytest.mark.parametrize("query", ["", "q=甲", "district={away}"])
def test_the_board_column_export_holds_the_columns_rows(client, login_as, board_world, query):
    login_as("admin")
    query = query.format(away=board_world["away"].id)
    shown = column_names(page_of(client, f"/pipeline/board/hte/stages/prospect?{query}"))
    rows = rows_of(client.get(f"/reports/export/board_column?programme=hte&stage=prospect&{query}"))
    assert rows[0][:3] == ["企业名称", "统一社会信用代码", "区县"]
    assert [r[0] for r in rows[1:]] == shown and shown
    assert all(r[5] == datetime(2026, 3, 2) and r[6] == 91 for r in rows[1:])


def test_a_manager_exports_only_his_firms_of_a_column(client, login_as, board_world):
    login_as(user=factories.make_user("manager", districts=[board_world["home"]]))
    rows = rows_of(client.get("/reports/export/board_column?programme=hte&stage=prospect"))
    assert sorted(r[0] for r in rows[1:]) == sorted(
        [board_world["甲"].name, board_world["乙"].name]
    )


def test_the_column_page_links_to_its_export(client, login_as, board_world):
    login_as("admin")
    html = page_of(client, "/pipeline/board/hte/stages/reserve?q=丙")
    assert (
        'href="/reports/export/board_column?q=%E4%B8%99&amp;programme=hte&amp;stage=reserve"'
        in html
    )


def test_an_unknown_column_has_no_export(client, login_as, board_world):
    login_as("admin")
    assert client.get("/reports/export/board_column?programme=hte&stage=nope").status_code == 404
    assert client.get("/reports/export/board_column?programme=x&stage=prospect").status_code == 404


def test_an_enterprise_user_exports_no_column(client, login_as, board_world):
    login_as("enterprise", firm=board_world["甲"])
    assert (
        client.get("/reports/export/board_column?programme=hte&stage=prospect").status_code == 404
    )
