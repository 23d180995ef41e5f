"""The export link of a list page: shown when the list has an export, with the page's filters."""

from crm.core import exports


def test_export_url_carries_the_query_but_not_the_page(app, monkeypatch):
    monkeypatch.setattr(exports, "_endpoints", {"firms": "firms.list"})
    with app.test_request_context("/firms/?q=梧州&tier=hte&page=3&district=2&district=4"):
        url = exports.export_url("firms")
        assert url.startswith("/firms/?")
        assert "page" not in url and "district=2&district=4" in url
        assert "q=%E6%A2%A7%E5%B7%9E" in url and "tier=hte" in url
        assert exports.export_url("ledger") is None
    with app.test_request_context("/firms/"):
        assert exports.export_url("firms") == "/firms/"
    monkeypatch.setattr(exports, "_endpoints", {"firms": "no.such_endpoint"})
    with app.test_request_context("/firms/"):
        assert exports.export_url("firms") is None


def test_the_firm_list_shows_the_button_only_when_the_list_has_an_export(
    client, login_as, monkeypatch
):
    login_as("admin")
    monkeypatch.setattr(exports, "_endpoints", {})
    assert "导出 Excel" not in client.get("/firms/?q=甲").get_data(as_text=True)
    monkeypatch.setattr(exports, "_endpoints", {"firms": "firms.new"})
    page = client.get("/firms/?q=甲&sort=-name").get_data(as_text=True)
    assert "导出 Excel" in page
    assert 'href="/firms/new?q=%E7%94%B2&amp;sort=-name"' in page
