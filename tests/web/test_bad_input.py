"""Bad input gets a Chinese message or is made harmless, never a 500: the defects, one by one.

tests/web/test_hostile_input.py tries every field of every form; these tests pin each defect it
found, in the words of the page that was wrong.
"""

from sqlalchemy import select

from crm.extensions import db
from crm.firms.models import FirmContact
from tests import factories

HTMX = {"HX-Request": "true"}


def test_a_nul_in_the_login_username_is_dropped_not_a_500(client):
    user = factories.make_user("manager")
    db.session.commit()
    name = user.username
    response = client.post(
        "/login", data={"username": f"{name[:2]}\x00{name[2:]}", "password": factories.PASSWORD}
    )
    assert response.status_code == 302


def test_control_characters_are_dropped_from_posted_text_but_tabs_and_line_breaks_stay(
    client, login_as
):
    login_as("admin")
    firm = factories.make_firm()
    db.session.commit()
    data = {"new-name": "韩\x00梅\x07梅\x1b", "new-phone": "0774\t3\n8\x00"}
    response = client.post(f"/firms/{firm.id}/contacts", data=data, headers=HTMX)
    assert response.status_code == 200
    contact = db.session.scalar(select(FirmContact))
    assert contact.name == "韩梅梅"
    assert contact.phone == "0774\t3\n8"


def test_a_nul_in_a_search_or_a_tab_is_dropped_not_a_500(client, login_as):
    login_as("admin")
    firm = factories.make_firm(name="梧州搜索科技有限公司")
    db.session.commit()
    page = client.get("/firms/?q=梧州\x00搜索")
    assert page.status_code == 200
    assert "梧州搜索科技有限公司" in page.get_data(as_text=True)
    assert client.get(f"/firms/{firm.id}?tab=history\x00").status_code == 200


def test_a_year_that_is_not_a_number_gets_a_message_on_every_yearly_form(client, login_as):
    login_as("admin")
    firm = factories.make_firm()
    row = factories.make_year(firm, 2024)
    db.session.commit()
    posts = [
        (f"/firms/{firm.id}/years", {"new-year": "二〇二四"}),
        (f"/firms/{firm.id}/years/{row.id}/edit", {f"row{row.id}-year": "2024年"}),
        (f"/firms/{firm.id}/qualifications", {"new-tier": "srdi", "new-year": "NaN"}),
        (f"/coaching/firms/{firm.id}/plans", {"year": "1e309"}),
    ]
    for url, data in posts:
        response = client.post(url, data=data, headers=HTMX, follow_redirects=True)
        assert response.status_code == 200, url
        assert "不是有效的整数" in response.get_data(as_text=True), url


def test_an_impossible_certificate_date_gets_a_message(client, login_as):
    login_as("admin")
    firm = factories.make_firm()
    db.session.commit()
    response = client.post(
        f"/certification/firms/{firm.id}/certificates",
        data={"issued_on": "2026-02-30", "document": "桂科高字〔2024〕9号"},
    )
    assert response.status_code == 200
    assert "不是有效的日期值" in response.get_data(as_text=True)


def test_a_page_number_past_any_list_shows_an_empty_page(client, login_as):
    login_as("admin")
    firm = factories.make_firm()
    db.session.commit()
    for url in (
        "/firms/?page=999999999999999999999",
        "/eligibility/?page=999999999999999999999",
        "/support/?page=999999999999999999999",
        "/imports/?page=999999999999999999999",
        "/pipeline/board/hte/stages/reserve?page=999999999999999999999",
        f"/firms/{firm.id}?tab=history&page=999999999999999999999",
    ):
        assert client.get(url).status_code == 200, url


def test_an_id_larger_than_any_integer_is_no_row_not_a_500(client, login_as):
    login_as("admin")
    firm = factories.make_firm()
    db.session.commit()
    for huge in ("99999999999", "999999999999999999999"):
        _no_row_with_a_huge_id(client, firm, huge)


def _no_row_with_a_huge_id(client, firm, huge: str) -> None:
    for url in (
        f"/firms/?district={huge}&manager={huge}&park={huge}",
        f"/eligibility/?industry={huge}&tech_field={huge}",
        f"/certification/duties?district={huge}",
        f"/pipeline/board/hte?manager={huge}",
    ):
        assert client.get(url).status_code == 200, url
    data = {"year": "2025", "kind": "annual_report", "filed_on": "2026-05-20", "duty": [huge]}
    response = client.post("/certification/duties/filed", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "请先勾选要标记为已填报的企业" in response.get_data(as_text=True)
    data = {"programme": "hte", "enroll-hte-stage": "reserve", "enroll-hte-batch": huge}
    assert client.post(f"/pipeline/firms/{firm.id}/enroll", data=data).status_code < 500


def test_a_year_no_list_could_show_falls_back_to_the_default(client, login_as):
    login_as("admin")
    for year in ("-5", "99999999999", "999999999999999999999", "0"):
        for url in (
            f"/support/?year={year}",
            f"/pipeline/board/hte?year={year}",
            f"/pipeline/board/hte/stages/reserve?year={year}",
            f"/certification/cohort?year={year}",
        ):
            assert client.get(url).status_code == 200, url


def test_a_search_of_100000_characters_looks_for_its_first_hundred(client, login_as):
    login_as("admin")
    long = "梧" * 100_000
    for url in ("/firms/", "/eligibility/", "/support/", "/pipeline/board/hte", "/admin/users"):
        assert client.get(f"{url}?q={long}").status_code == 200, url
