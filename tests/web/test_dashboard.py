"""The dashboard page: its figures are the funnel queries' numbers, narrowed by the filters and
the user's reach, drawn as charts and written as tables, each linked to the list behind it."""

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from crm.core import clock
from crm.dashboard import funnel, indicators
from crm.dashboard.filters import DashboardFilters
from crm.dashboard.models import Target
from crm.dashboard.targets import HTE_COUNT, set_target
from crm.extensions import db
from tests import factories
from tests.web.dashboard_world import NOW, TODAY, make_world

DATA = re.compile(r'<script type="application/json" id="dashboard-data">(.*?)</script>', re.S)


@pytest.fixture
def world(app):
    built = make_world()
    with clock.frozen(NOW):
        yield built


def page_data(html: str) -> dict:
    """Return the JSON the page embeds for its charts and cards."""
    return json.loads(DATA.search(html).group(1))


def values(data: dict, chart: str, series: int = 0) -> list:
    return [point["value"] for point in data["charts"][chart]["series"][series]["data"]]


def links(data: dict, chart: str, series: int = 0) -> list:
    return [point["href"] for point in data["charts"][chart]["series"][series]["data"]]


def dashboard(client, **args) -> str:
    response = client.get("/dashboard/", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


class Tables(HTMLParser):
    """Collect the dashboard's tables: per figure, its rows of cell texts and links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[tuple[str, str | None]]]] = {}
        self._table: str | None = None
        self._cell: list | None = None
        self._row: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "data-table" in a:
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = ["", None]
        elif self._cell is not None and tag == "a":
            self._cell[1] = a["href"]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data.strip()

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(tuple(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def tables(html: str) -> dict:
    parser = Tables()
    parser.feed(html)
    return parser.tables


# --- Who reaches it ------------------------------------------------------------------------------


def test_a_bureau_head_lands_on_the_dashboard(client, login_as):
    login_as("bureau_head")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/")


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_other_staff_still_land_on_todays_work_and_reach_the_dashboard(client, login_as, role):
    login_as(role, districts=[factories.district()] if role == "manager" else ())
    assert client.get("/").headers["Location"].endswith("/todo")
    page = dashboard(client)
    assert "数据看板" in page and 'href="/dashboard/"' in page


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_enterprise_users_get_404(client, login_as):
    firm = factories.make_firm()
    db.session.commit()
    login_as("enterprise", firm_id=firm.id)
    assert client.get("/dashboard/").status_code == 404
    assert client.get("/dashboard/", headers={"HX-Request": "true"}).status_code == 404
    assert client.get("/dashboard/targets").status_code == 404
    assert client.post("/dashboard/targets/seed", data={"base_year": 2025}).status_code == 404


# --- The figures ---------------------------------------------------------------------------------


def test_the_figures_are_the_funnel_queries_for_the_whole_city(client, login_as, world):
    login_as("bureau_head")
    data = page_data(dashboard(client))

    hte = funnel.firms_per_stage("hte")
    assert values(data, "funnel_hte") == [row.firms for row in hte]
    assert data["charts"]["funnel_hte"]["categories"] == [row.stage_name for row in hte]
    # prospect f5, reserve f3, applied f2, certified f1 and f4.
    assert values(data, "funnel_hte")[:6] == [1, 1, 0, 1, 0, 2]
    assert values(data, "funnel_listing") == [
        row.firms for row in funnel.firms_per_stage("listing")
    ]
    assert values(data, "funnel_listing")[0] == 1

    medians = funnel.median_days_in_stage("hte", today=TODAY)
    assert values(data, "median_days") == [round(row.median_days, 2) for row in medians]

    expiring = funnel.certificates_expiring([2026, 2027], by="district")
    assert data["charts"]["expiring"]["categories"] == ["万秀区", "长洲区"]
    assert values(data, "expiring", 0) == [0, 1]  # f4's certificate, in 长洲区
    assert values(data, "expiring", 1) == [1, 0]  # f1's, in 万秀区
    assert sum(values(data, "expiring", 0) + values(data, "expiring", 1)) == sum(
        row.certificates for row in expiring
    )

    applied = funnel.conversion("hte", "reserve", "applied")
    certified = funnel.conversion("hte", "reserve", "certified")
    assert data["charts"]["conversion"]["categories"] == ["2023 年", "2024 年", "2025 年"]
    assert values(data, "conversion", 0) == [round(row.rate * 100, 1) for row in applied]
    assert values(data, "conversion", 1) == [round(row.rate * 100, 1) for row in certified]
    assert values(data, "conversion", 1) == [100.0, 50.0, 0.0]

    # The pool: f3 in reserve (f2 has applied, and left it); the listing reserve: f3.
    assert data["cards"]["reserve_count"] == {"value": 1, "target": None}
    assert data["cards"]["listing_reserve_count"] == {"value": 1, "target": None}


def test_the_indicators_are_those_of_the_indicator_queries(client, login_as, world):
    home, away = world["home"], world["away"]
    set_target(2026, HTE_COUNT, None, Decimal(4))
    set_target(2026, HTE_COUNT, home.id, Decimal(1))
    set_target(2026, "support_paid", None, Decimal(100))
    db.session.commit()
    login_as("bureau_head")
    html = dashboard(client)
    data = page_data(html)

    counts = {row.group_id: row.count for row in indicators.hte_count(TODAY, by="district")}
    assert counts == {home.id: 1, away.id: 1}
    chart = data["charts"]["hte_by_district"]
    # Every district of the city, with its target where it has one.
    assert chart["categories"][:2] == ["万秀区", "长洲区"] and len(chart["categories"]) == 7
    assert (
        values(data, "hte_by_district")[:2] == [1, 1] and sum(values(data, "hte_by_district")) == 2
    )
    assert values(data, "hte_by_district", 1)[:2] == [1, None]
    assert links(data, "hte_by_district")[0] == f"/firms/?tier=hte&district={home.id}"

    paid = indicators.support_paid(2026, by_kind=True)
    assert data["charts"]["support_by_kind"]["categories"] == ["高企认定奖励", "创新券"]
    assert values(data, "support_by_kind") == [float(row.amount / 10000) for row in paid]
    assert values(data, "support_by_kind") == [20.0, 5.0]
    assert links(data, "support_by_kind")[1] == "/support/?kind=voucher&status=paid&year=2026"

    assert data["cards"]["hte_count"] == {"value": 2, "target": 4}
    assert data["cards"]["invention_patents"] == {
        "value": indicators.invention_patents(TODAY)[0].count,
        "target": None,
    }
    assert data["cards"]["invention_patents"]["value"] == 2
    assert data["cards"]["support_paid"] == {"value": 25.0, "target": 100}
    # No 2026 figures yet for f3, the pool's only firm.
    assert data["cards"]["rd_intensity"] == {"value": None, "target": None}
    assert "后备库 1 家，其中 0 家有 2026 年数据" in html
    rates = re.findall(r"data-card-rate>([^<]+)<", html)
    assert rates == ["50.0%", "25.0%"]
    assert [row[3][0] for row in tables(html)["hte_by_district"][1:3]] == ["100.0%", "—"]

    # A district compares with its own target; 2025's figures give the pool's R&D intensity.
    data = page_data(dashboard(client, district_id=home.id))
    assert data["cards"]["hte_count"] == {"value": 1, "target": 1}
    assert data["charts"]["hte_by_district"]["categories"] == ["万秀区"]
    pool = indicators.pool_rd_intensity(2025)[0]
    assert page_data(dashboard(client, year=2025))["cards"]["rd_intensity"]["value"] == round(
        pool.percent, 2
    )
    assert round(pool.percent, 2) == 5.52  # f3: 1,600,000 of 29,000,000


def test_placeholders_are_marked_and_parts_of_the_city_have_no_target(client, login_as, world):
    home = world["home"]
    db.session.add(
        Target(year=2026, indicator=HTE_COUNT, district_id=home.id, value=3, placeholder=True)
    )
    db.session.commit()
    login_as("admin")
    html = dashboard(client, district_id=home.id)
    assert page_data(html)["cards"]["hte_count"] == {"value": 1, "target": 3}
    card = html[html.index('data-card="hte_count"') : html.index('data-card="reserve_count"')]
    assert "目标 3 家" in card and "占位值" in card and "33.3%" in card
    assert "（含倍增计划占位值）" in html

    # Only part of the district: a park, or a manager's own firms.
    data = page_data(dashboard(client, district_id=home.id, park_id=world["park"].id))
    assert data["cards"]["hte_count"] == {"value": 1, "target": None}
    assert len(data["charts"]["hte_by_district"]["series"]) == 1
    client.post("/logout")
    login_as(user=world["manager_a"])
    html = dashboard(client, district_id=home.id)
    assert page_data(html)["cards"]["hte_count"] == {"value": 1, "target": None}
    assert "未设目标" in html


def test_the_tables_show_the_same_numbers_as_the_charts(client, login_as, world):
    login_as("admin")
    html = dashboard(client)
    data = page_data(html)
    shown = tables(html)
    for key in ("funnel_hte", "funnel_listing", "expiring"):
        rows = shown[key][1:]
        assert [row[0][0] for row in rows] == data["charts"][key]["categories"]
        for n, series in enumerate(data["charts"][key]["series"]):
            assert [int(row[n + 1][0]) for row in rows] == [p["value"] for p in series["data"]]
            assert [row[n + 1][1] for row in rows] == [p["href"] for p in series["data"]]
    conversion = shown["conversion"]
    assert conversion[0] == [
        ("入库年度", None),
        ("入库企业数", None),
        ("已申报", None),
        ("申报率", None),
        ("已认定", None),
        ("认定率", None),
    ]
    assert [cell[0] for cell in conversion[2]] == ["2024 年", "2", "2", "100.0%", "1", "50.0%"]


def test_the_filters_narrow_every_figure(client, login_as, world):
    user = login_as("admin")
    away = world["away"]
    data = page_data(dashboard(client, district_id=away.id))
    filters = DashboardFilters(year=2026, district_id=away.id)
    scope = filters.scope(user)
    assert values(data, "funnel_hte") == [
        row.firms for row in funnel.firms_per_stage("hte", scope=scope)
    ]
    # f5 prospect, f3 reserve, f4 certified; f1 and f2 are in 万秀区.
    assert values(data, "funnel_hte")[:6] == [1, 1, 0, 0, 0, 1]
    assert data["charts"]["expiring"]["categories"] == ["长洲区"]
    assert data["charts"]["conversion"]["categories"] == ["2023 年", "2025 年"]
    assert data["cards"]["reserve_count"]["value"] == 1

    data = page_data(dashboard(client, park_id=world["park"].id))
    assert values(data, "funnel_hte")[:6] == [0, 0, 0, 0, 0, 1]  # f1 alone is in the park
    data = page_data(dashboard(client, manager_id=world["manager_b"].id))
    assert values(data, "funnel_hte")[:6] == [0, 1, 0, 0, 0, 1]  # f3 and f4


def test_the_year_picks_the_certificates_expiring_and_the_cohorts(client, login_as, world):
    login_as("admin")
    data = page_data(dashboard(client, year=2024))
    assert data["charts"]["expiring"]["title"] == "高企证书到期（2024 年、2025 年）"
    assert data["charts"]["expiring"]["categories"] == []
    assert data["charts"]["conversion"]["categories"] == ["2023 年", "2024 年"]


def test_a_manager_sees_only_his_reach(client, login_as, world):
    login_as(user=world["manager_a"])
    html = dashboard(client)
    data = page_data(html)
    # f1 certified and f2 applied, both in his district; nothing of 长洲区.
    assert values(data, "funnel_hte")[:6] == [0, 0, 0, 1, 0, 1]
    assert values(data, "funnel_listing")[0] == 0
    assert data["charts"]["expiring"]["categories"] == ["万秀区"]
    # The filters offer his district and those who cover it.
    assert f'<option value="{world["home"].id}">万秀区</option>' in html
    assert "长洲区</option>" not in html
    assert "甲专员</option>" in html and "乙专员</option>" not in html
    # Asking for another district shows nothing of it.
    data = page_data(dashboard(client, district_id=world["away"].id))
    assert sum(values(data, "funnel_hte")) == 0


def test_htmx_gets_the_figures_alone(client, login_as, world):
    login_as("bureau_head")
    response = client.get(
        "/dashboard/",
        query_string={"district_id": world["home"].id},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="dashboard-figures"')
    assert "HX-Request" in response.headers["Vary"]
    assert values(page_data(html), "funnel_hte")[5] == 1
    # The report's link is redrawn with the figures, carrying the filters on screen.
    report = f'href="/dashboard/report/?year=2026&amp;district_id={world["home"].id}"'
    assert report in html
    # A page htmx no longer has in its history is asked for whole.
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/dashboard/", headers=restore).get_data(as_text=True)


def test_bad_filter_values_are_ignored(client, login_as, world):
    login_as("admin")
    html = dashboard(client, year="abc", district_id="-3", park_id="x" * 50, manager_id="9" * 40)
    assert values(page_data(html), "funnel_hte")[5] == 2
    assert '<option selected value="2026">2026 年</option>' in html


def test_an_empty_city_says_so(client, login_as):
    login_as("bureau_head")
    html = dashboard(client)
    assert html.count("暂无数据") == 7
    assert "data-chart=" not in html


# --- Click-through -------------------------------------------------------------------------------


def query(url: str) -> tuple[str, dict]:
    parts = urlsplit(url)
    return parts.path, {key: value[0] for key, value in parse_qs(parts.query).items()}


def test_every_figure_links_to_the_list_behind_it(client, login_as, world):
    login_as("admin")
    home = world["home"].id
    data = page_data(dashboard(client, district_id=home, year=2027))

    stages = [row.stage for row in funnel.firms_per_stage("hte")]
    applied = links(data, "funnel_hte")[stages.index("applied")]
    assert query(applied) == ("/pipeline/board/hte/stages/applied", {"district": str(home)})
    column = client.get(applied).get_data(as_text=True)
    assert "梧州看板f2科技有限公司" in column and "梧州看板f3科技有限公司" not in column

    assert query(links(data, "funnel_listing")[0]) == (
        "/pipeline/board/listing/stages/pool",
        {"district": str(home)},
    )
    [cohort_2027] = links(data, "expiring", 0)
    assert query(cohort_2027) == ("/certification/cohort", {"year": "2027", "district": str(home)})
    assert "梧州看板f1科技有限公司" in client.get(cohort_2027).get_data(as_text=True)

    assert query(links(data, "conversion", 0)[0]) == (
        "/pipeline/board/hte",
        {"year": "2024", "district": str(home)},
    )
    assert query(links(data, "median_days")[0])[0].startswith("/pipeline/board/hte/stages/")


def test_the_cards_link_to_their_boards(client, login_as, world):
    login_as("admin")
    html = dashboard(client, tech_field_id=world["field"].id)
    field = world["field"].id
    assert f'href="/pipeline/board/hte?tech_field={field}" data-card-value>1<' in html
    assert f'href="/firms/?tech_field={field}&amp;tier=hte" data-card-value>2<' in html
    assert (
        'href="/support/?year=2026&amp;status=paid" data-card-value>25.00<' in html
    )  # no district: the ledger has no field filter
    assert f'href="/pipeline/board/listing?tech_field={field}" data-card-value>1<' in html
