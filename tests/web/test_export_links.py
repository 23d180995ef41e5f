"""The export link of a list page: shown when the list has an export, with the page's filters."""

from flask_login import login_user

from crm.core import exports


def test_export_url_carries_the_query_but_not_the_page(app, client, login_as):
    user = login_as("admin")
    with app.test_request_context("/firms/?q=梧州&tier=hte&page=3&district=2&district=4"):
        login_user(user)
        url = exports.export_url("firms")
        assert url.startswith("/reports/export/firms?")
        assert "page" not in url and "district=2&district=4" in url
        assert "q=%E6%A2%A7%E5%B7%9E" in url and "tier=hte" in url
        assert exports.export_url("ledger") is None
    with app.test_request_context("/firms/"):
        login_user(user)
        assert exports.export_url("firms") == "/reports/export/firms"


def test_the_firm_list_shows_the_button_only_when_the_list_has_an_export(
    client, login_as, monkeypatch
):
    login_as("admin")
    monkeypatch.setattr(exports, "_served_at", [])
    assert "导出 Excel" not in client.get("/firms/?q=甲").get_data(as_text=True)
    monkeypatch.setattr(exports, "_served_at", ["reports.export_list"])
    page = client.get("/firms/?q=甲&sort=-name").get_data(as_text=True)
    assert "导出 Excel" in page
    assert 'href="/reports/export/firms?q=%E7%94%B2&amp;sort=-name"' in page


def test_an_enterprise_user_gets_no_export_link(client, login_as, app):
    user = login_as("enterprise")
    with app.test_request_context("/firms/"):
        login_user(user)
        assert exports.export_url("firms") is None
