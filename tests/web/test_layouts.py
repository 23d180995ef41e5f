"""The pages of the government layouts: who may open them, downloads within a user's reach,
the parameters' messages, and the administrator's column settings (with and without CSRF)."""

import re
from io import BytesIO
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from crm.extensions import db
from crm.reports import layouts
from crm.reports.layout_columns import LAYOUTS
from tests import factories
from tests.layout_world import FORMULA_NAME, build_world, frozen_today

TOKEN = r'name="csrf_token" type="hidden" value="([^"]+)"'


@pytest.fixture
def world(app):
    with frozen_today():
        world = build_world()
        db.session.commit()
        yield world


def names_in(response) -> list[str]:
    """Return the firm names of a downloaded reserve roster (column B, from row 5 to 合计)."""
    sheet = load_workbook(BytesIO(response.data)).active
    names = []
    for row in sheet.iter_rows(min_row=5, values_only=True):
        if row[0] == "合计":
            break
        names.append(row[1])
    return names


# --- Who may open what ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "bureau_head", "manager"])
def test_staff_see_the_layouts_and_the_menu_entry(client, login_as, role):
    login_as(role)
    page = client.get("/reports/layouts/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "上报报表" in text
    for layout in LAYOUTS.values():
        assert layout.name in text
    assert ("设置列" in text) == (role == "admin")
    assert client.get("/reports/layouts/reserve").status_code == 200


def test_enterprise_users_get_404_on_every_layout_page(client, login_as):
    firm = factories.make_firm()
    login_as("enterprise", firm_id=firm.id)
    for method, url in [
        ("GET", "/reports/layouts/"),
        ("GET", "/reports/layouts/reserve"),
        ("GET", "/reports/layouts/reserve/download?year=2026"),
        ("GET", "/reports/layouts/reserve/edit"),
        ("POST", "/reports/layouts/reserve/edit"),
        ("POST", "/reports/layouts/reserve/reset"),
    ]:
        assert client.open(url, method=method).status_code == 404, url
    assert "上报报表" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["bureau_head", "manager"])
def test_only_administrators_set_the_columns(client, login_as, role):
    login_as(role)
    assert client.get("/reports/layouts/reserve/edit").status_code == 403
    posted = client.post("/reports/layouts/reserve/edit", data={"shown": ["name"], "save": "1"})
    assert posted.status_code == 403
    assert client.post("/reports/layouts/reserve/reset").status_code == 403
    assert layouts.template_of(LAYOUTS["reserve"]) is None


def test_an_unknown_layout_is_404(client, login_as):
    login_as("admin")
    assert client.get("/reports/layouts/nonsense").status_code == 404
    assert client.get("/reports/layouts/nonsense/download?year=2026").status_code == 404
    assert client.get("/reports/layouts/nonsense/edit").status_code == 404


# --- Downloads -----------------------------------------------------------------------------------


def test_a_managers_download_holds_only_his_firms(client, login_as, world):
    login_as(user=world.manager)
    response = client.get("/reports/layouts/reserve/download?year=2026")
    assert response.status_code == 200
    assert names_in(response) == [FORMULA_NAME]


def test_an_administrators_download_holds_every_firm_with_a_chinese_file_name(
    client, login_as, world
):
    login_as(user=world.admin)
    response = client.get("/reports/layouts/reserve/download?year=2026&filler=梧州市科学技术局")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition
    assert f"filename*=UTF-8''{quote('梧州市2026年高企后备库入库企业名单.xlsx')}" in disposition
    assert len(names_in(response)) == 3
    sheet = load_workbook(BytesIO(response.data)).active
    assert sheet["A2"].value == "填报单位：梧州市科学技术局"


def test_a_district_download(client, login_as, world):
    login_as(user=world.admin)
    response = client.get(f"/reports/layouts/reserve/download?year=2026&district={world.away.id}")
    assert names_in(response) == ["长洲精密科技有限公司", "长洲辅导科技有限公司"]


def test_each_layout_downloads(client, login_as, world):
    login_as(user=world.admin)
    urls = {
        "reserve": "year=2026",
        "recommendation": f"batch={world.batch.id}",
        "recertification": "year=2026",
        "listing": "year=2026",
        "support": "year=2026&status=paid",
    }
    for key, query in urls.items():
        response = client.get(f"/reports/layouts/{key}/download?{query}")
        assert response.status_code == 200, key
        sheet = load_workbook(BytesIO(response.data)).active
        assert LAYOUTS[key].name in sheet["A1"].value


def test_the_download_page_starts_from_this_year_and_the_latest_batch(client, login_as, world):
    login_as(user=world.admin)
    page = client.get("/reports/layouts/reserve").get_data(as_text=True)
    assert 'name="year"' in page and 'value="2026"' in page
    assert "入库年度" in page
    page = client.get("/reports/layouts/recommendation").get_data(as_text=True)
    assert f'<option selected value="{world.batch.id}">' in page
    assert 'name="year"' not in page


@pytest.mark.parametrize(
    ("key", "query", "message"),
    [
        ("reserve", "year=abc", "请输入四位数字的年度"),
        ("reserve", "year=1800", "年度应在 1990 至 2100 之间"),
        ("reserve", "year=", "请填写年度"),
        ("reserve", "year=2026&district=999999", "请选择本市的县（市、区）"),
        ("reserve", "year=2026&district=abc", "请选择本市的县（市、区）"),
        ("reserve", "year=2026&filler=" + "长" * 61, "填报单位最多 60 个字"),
        ("recommendation", "", "请选择认定批次"),
        ("recommendation", "batch=2147483647", "所选认定批次不存在"),
        ("support", "year=2026&status=bogus", "请选择有效的扶持状态"),
    ],
)
def test_bad_parameters_are_explained_in_chinese(client, login_as, world, key, query, message):
    login_as(user=world.admin)
    response = client.get(f"/reports/layouts/{key}/download?{query}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text
    assert "请检查下面标出的内容" in text


# --- Column settings -----------------------------------------------------------------------------


def _save(client, order, shown, **extra):
    return client.post(
        "/reports/layouts/reserve/edit", data={"order": order, "shown": shown, **extra}
    )


def test_the_edit_page_lists_every_column_the_shown_ones_ticked(client, login_as):
    login_as("admin")
    page = client.get("/reports/layouts/reserve/edit").get_data(as_text=True)
    keys = re.findall(r'name="order" value="([^"]+)"', page)
    layout = LAYOUTS["reserve"]
    assert keys[: len(layout.default_keys)] == layout.default_keys
    assert sorted(keys) == sorted(c.key for c in layout.columns)
    ticked = re.findall(r'name="shown" value="([^"]+)" id="[^"]+" checked', page)
    assert ticked == layout.default_keys
    assert 'value="up:name"' in page and 'value="down:name"' in page


def test_saving_the_columns_changes_the_download(client, login_as, world):
    login_as(user=world.admin)
    order = ["district", "name", "uscc", *[c.key for c in LAYOUTS["reserve"].columns][3:]]
    response = _save(client, order, ["name", "district"], save="1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/reports/layouts/reserve")
    assert layouts.shown_keys(LAYOUTS["reserve"]) == ["district", "name"]
    download = client.get("/reports/layouts/reserve/download?year=2026")
    sheet = load_workbook(BytesIO(download.data)).active
    assert [c.value for c in sheet[3]] == ["序号", "所属县（市、区）", "企业名称"]
    listing = client.get("/reports/layouts/").get_data(as_text=True)
    assert "2 列：所属县（市、区）、企业名称" in listing


def test_an_arrow_moves_a_row_without_saving(client, login_as):
    login_as("admin")
    layout = LAYOUTS["reserve"]
    order = [c.key for c in layout.columns]
    response = _save(client, order, layout.default_keys, move="down:name")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    keys = re.findall(r'name="order" value="([^"]+)"', page)
    assert keys[:2] == ["uscc", "name"]
    assert "顺序已调整，保存后生效" in page
    assert layouts.template_of(layout) is None
    # Saving that page keeps the order it shows.
    assert _save(client, keys, layout.default_keys, save="1").status_code == 302
    assert layouts.shown_keys(layout)[:2] == ["uscc", "name"]


@pytest.mark.parametrize(
    ("shown", "extra", "message"),
    [
        ([], {"save": "1"}, "请至少选择一列"),
        (["name", "nonsense"], {"save": "1"}, "没有这一列：nonsense"),
        (["name"], {"move": "sideways:name"}, "无法识别要移动的列"),
    ],
)
def test_bad_column_settings_are_explained(client, login_as, shown, extra, message):
    login_as("admin")
    order = [c.key for c in LAYOUTS["reserve"].columns]
    response = _save(client, order, shown, **extra)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert layouts.template_of(LAYOUTS["reserve"]) is None


def test_restoring_the_default_columns(client, login_as):
    user = login_as("admin")
    layouts.save_template(LAYOUTS["support"], ["name"], user)
    db.session.commit()
    response = client.post("/reports/layouts/support/reset")
    assert response.status_code == 302
    assert layouts.template_of(LAYOUTS["support"]) is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已恢复默认列" in page


def test_the_column_settings_need_the_csrf_token(app, client, login_as):
    login_as("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    order = [c.key for c in LAYOUTS["reserve"].columns]
    assert _save(client, order, ["name"], save="1").status_code == 400
    assert client.post("/reports/layouts/reserve/reset").status_code == 400
    assert layouts.template_of(LAYOUTS["reserve"]) is None
    page = client.get("/reports/layouts/reserve/edit").get_data(as_text=True)
    token = re.search(TOKEN, page).group(1)
    assert _save(client, order, ["name"], save="1", csrf_token=token).status_code == 302
    assert layouts.shown_keys(LAYOUTS["reserve"]) == ["name"]
