"""The work lists' exports: each holds the rows its page shows, with the page's filters and sort,
to whom the page shows them."""

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from crm.core import clock
from crm.eligibility.models import Assessment
from crm.extensions import db
from tests import factories
from tests.web.eligibility_world import NOW, make_world


@pytest.fixture(autouse=True)
def _setting(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


def rows_of(response) -> list[list]:
    """Read an exported workbook's rows back, the header first."""
    assert response.status_code == 200, response.status_code
    sheet = load_workbook(BytesIO(response.get_data())).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


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
