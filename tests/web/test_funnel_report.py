"""The funnel report download: who may have it and whose figures it holds."""

from io import BytesIO
from urllib.parse import quote

from openpyxl import load_workbook

from crm.dashboard import indicators
from tests.services.test_funnel_workbook import rows_of
from tests.services.test_indicators import YEAR_END, world  # noqa: F401

URL = "/dashboard/report/"


def summary(response) -> dict:
    assert response.status_code == 200
    return rows_of(load_workbook(BytesIO(response.data))["汇总"])


def test_an_admin_gets_the_whole_city_with_a_chinese_name(client, login_as, world):  # noqa: F811
    login_as("admin")
    response = client.get(URL, query_string={"year": 2025})
    assert response.mimetype.endswith("spreadsheetml.sheet")
    name = quote("梧州市科技企业培育漏斗报告_2025.xlsx")
    assert f"filename*=UTF-8''{name}" in response.headers["Content-Disposition"]
    rows = summary(response)
    assert rows["高新技术企业数"][2].value == indicators.hte_count(YEAR_END)[0].count == 2
    assert rows["扶持资金兑现"][2].value == 27.0


def test_a_bureau_head_filters_by_district(client, login_as, world):  # noqa: F811
    login_as("bureau_head")
    response = client.get(URL, query_string={"year": 2025, "district_id": world["away"].id})
    rows = summary(response)
    assert rows["高新技术企业数"][2].value == 1
    assert rows["扶持资金兑现"][2].value == 2.0


def test_a_manager_gets_only_his_firms(client, login_as, world):  # noqa: F811
    login_as(user=world["manager_b"])
    response = client.get(URL, query_string={"year": 2025})
    rows = summary(response)
    assert rows["高新技术企业数"][2].value == 1
    assert rows["高新技术企业数"][3].value is None  # no city target for part of the city
    assert rows["有效发明专利"][2].value == 0  # fb's patent was granted in 2026
    assert rows["扶持资金兑现"][2].value == 2.0
    book = load_workbook(BytesIO(response.data))
    assert "经理A" not in rows_of(book["按服务专员"])


def test_a_manager_filtering_outside_his_reach_gets_nothing(client, login_as, world):  # noqa: F811
    login_as(user=world["manager_b"])
    response = client.get(URL, query_string={"year": 2025, "district_id": world["home"].id})
    rows = summary(response)
    assert rows["高新技术企业数"][2].value == 0
    assert rows["扶持资金兑现"][2].value == 0


def test_an_enterprise_user_gets_404(client, login_as, world):  # noqa: F811
    login_as("enterprise", firm_id=world["fa"].id)
    assert client.get(URL).status_code == 404


def test_anonymous_goes_to_login(client, world):  # noqa: F811
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
