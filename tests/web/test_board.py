"""The kanban board: columns and counts, cards, filters, the move dialog, moves and bulk moves."""

import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from crm.certification.models import CertificationBatch
from crm.core import clock
from crm.extensions import db
from crm.pipeline.models import Enrollment, Programme, StageTransition
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from crm.reference.models import Park, TechField
from tests import factories
from tests.web.eligibility_world import make_candidate

#: 2026-06-15 10:00 in Asia/Shanghai.
NOW = datetime(2026, 6, 15, 2, 0)
TOKEN = r'name="csrf_token" type="hidden" value="([^"]+)"'


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


def enroll(firm, stage="prospect", on=date(2026, 3, 2), programme="hte", **inputs):
    """Enroll a firm (as the system) and return the enrollment."""
    inputs.setdefault("entry_reason", 4 if stage == "reserve" else None)
    return enroll_firm(firm, programme, stage, MoveInputs(moved_on=on, **inputs), None).enrollment


@pytest.fixture
def world(app):
    """A manager covering one district; firms on the high-tech board in and out of their reach.

    In the manager's district: 甲 and 乙 are prospects (乙 has no tech field), 丙 is in the reserve
    pool since 2025 and passes the pre-assessment, 丁 is in a park. In another district: 戊, a
    prospect assigned to another manager.
    """
    home, away = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager", name="李专员", districts=[home])
    other_manager = factories.make_user("manager", name="王专员")
    park = db.session.scalars(select(Park).order_by(Park.id)).first()
    field = db.session.scalars(select(TechField).order_by(TechField.id.desc())).first()
    firms = {
        "甲": factories.make_firm(name="甲看板科技有限公司", district=home, manager=manager),
        "乙": factories.make_firm(name="乙看板科技有限公司", district=home, tech_field=None),
        "丁": factories.make_firm(
            name="丁看板科技有限公司", district=home, park=park, tech_field=field
        ),
        "戊": factories.make_firm(name="戊看板科技有限公司", district=away, manager=other_manager),
    }
    db.session.commit()
    firms["丙"] = make_candidate("丙看板科技有限公司", district=home)
    enrollments = {
        "甲": enroll(firms["甲"]),
        "乙": enroll(firms["乙"]),
        "丙": enroll(firms["丙"], "reserve", on=date(2025, 5, 1)),
        "丁": enroll(firms["丁"]),
        "戊": enroll(firms["戊"]),
    }
    db.session.commit()
    return {
        "home": home,
        "away": away,
        "manager": manager,
        "other_manager": other_manager,
        "park": park,
        "field": field,
        "firms": firms,
        "enrollments": {k: e.id for k, e in enrollments.items()},
    }


def board(client, code="hte", **args) -> str:
    response = client.get(f"/pipeline/board/{code}", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def count(html: str, stage: str) -> int:
    match = re.search(rf'id="board-count-{stage}"[^>]*>(\d+)<', html)
    assert match, stage
    return int(match.group(1))


def column(html: str, stage: str) -> str:
    """Return the HTML of one column of the board."""
    start = html.index(f'id="board-column-{stage}"')
    end = html.find('<section class="board-column', start)
    return html[start : end if end > 0 else len(html)]


def dialog(client, enrollment_id, target, **args):
    return client.get(
        f"/pipeline/board/enrollments/{enrollment_id}/move",
        query_string={"target": target, **args},
        headers={"HX-Request": "true"},
    )


def move(client, enrollment_id, target, query=None, **fields):
    data = {f"move-{enrollment_id}-{k}": v for k, v in {"target": target, **fields}.items()}
    return client.post(
        f"/pipeline/board/enrollments/{enrollment_id}/move",
        data=data,
        query_string=query or {},
        headers={"HX-Request": "true"},
    )


def stage_of(enrollment_id) -> str:
    db.session.expire_all()
    return db.session.get(Enrollment, enrollment_id).stage.code


def transitions(enrollment_id) -> int:
    return db.session.scalar(
        select(func.count(StageTransition.id)).where(StageTransition.enrollment_id == enrollment_id)
    )


# --- Who sees the board --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "bureau_head", "manager"])
def test_staff_open_the_board(client, login_as, world, role):
    login_as(role)
    html = board(client)
    assert "培育看板" in html and "高企培育" in html
    assert "<script>" not in html and "style=" not in html


def test_enterprise_users_may_not_open_the_board_or_move_cards(client, login_as, world):
    # To an enterprise user the board is not there at all, even for its own firm's card.
    login_as("enterprise", firm_id=world["firms"]["甲"].id)
    own = world["enrollments"]["甲"]
    assert client.get("/pipeline/board/hte").status_code == 404
    assert client.get("/pipeline/board/hte/stages/prospect").status_code == 404
    assert client.get("/pipeline/board/hte/stages/prospect/cards").status_code == 404
    assert dialog(client, own, "reserve").status_code == 404
    assert move(client, own, "reserve", entry_reason="4").status_code == 404
    assert (
        client.post("/pipeline/board/hte/bulk", data={"bulk-enrollments": own}).status_code == 404
    )
    assert stage_of(own) == "prospect"


def test_an_unknown_programme_or_stage_is_not_found(client, login_as, world):
    login_as("admin")
    assert client.get("/pipeline/board/nope").status_code == 404
    assert client.get("/pipeline/board/hte/stages/nope").status_code == 404


def test_the_nav_links_to_the_board(client, login_as, world):
    login_as("manager")
    html = client.get("/firms/").get_data(as_text=True)
    assert 'href="/pipeline/board/hte">培育看板</a>' in html


# --- Columns, counts, cards ----------------------------------------------------------------------


def test_columns_follow_the_programme_with_exits_narrower_and_counts(client, login_as, world):
    login_as("admin")
    html = board(client)
    names = re.findall(r'<h2 class="h6 mb-0" id="board-title-\w+">([^<]+)</h2>', html)
    assert names == [
        "意向企业",
        "高企后备库",
        "一企一策辅导",
        "已申报",
        "评审/公示中",
        "已认定高企",
        "未通过",
        "资格到期",
        "取消资格",
        "迁出",
        "注销",
    ]
    assert 'board-column board-column-narrow" id="board-column-not_certified"' in html
    assert 'class="board-column" id="board-column-prospect"' in html
    assert (count(html, "prospect"), count(html, "reserve"), count(html, "coaching")) == (4, 1, 0)


def test_a_card_shows_name_district_manager_days_and_verdict(client, login_as, world):
    login_as("admin")
    reserve = column(board(client), "reserve")
    assert "丙看板科技有限公司" in reserve
    assert f'href="/firms/{world["firms"]["丙"].id}?tab=pipeline"' in reserve
    assert world["home"].name in reserve
    assert "本阶段 410 天" in reserve  # 2025-05-01 → 2026-06-15
    assert 'class="badge text-bg-success ">预计通过</span>' in reserve
    prospect = column(board(client), "prospect")
    assert "甲看板科技有限公司" in prospect and "李专员" in prospect
    assert "本阶段 105 天" in prospect  # 2026-03-02 → 2026-06-15
    assert 'class="badge text-bg-danger ">暂不符合</span>' in prospect  # no figures at all


def test_a_manager_sees_only_the_cards_of_their_firms(client, login_as, world):
    login_as(user=world["manager"])
    html = board(client)
    assert "甲看板科技有限公司" in html and "丁看板科技有限公司" in html
    assert "戊看板科技有限公司" not in html
    assert count(html, "prospect") == 3
    assert html.count('class="card board-card board-card-movable"') == 4


def test_a_bureau_head_may_drag_every_card_to_override(client, login_as, world):
    login_as("bureau_head")
    html = board(client)
    assert html.count('class="card board-card board-card-movable"') == 5
    assert "越过门槛的理由" in html


def test_closed_enrollments_and_deleted_firms_are_not_on_the_board(client, login_as, world):
    enrollment = db.session.get(Enrollment, world["enrollments"]["戊"])
    move_firm(enrollment, "moved", MoveInputs(reason="迁往南宁"), None)
    world["firms"]["丁"].deleted_at = NOW
    db.session.commit()
    login_as("admin")
    html = board(client)
    assert "戊看板科技有限公司" not in html and "丁看板科技有限公司" not in html
    assert (count(html, "prospect"), count(html, "moved")) == (2, 0)


def test_the_listing_board_has_its_own_stages_and_no_verdicts(client, login_as, world):
    enroll(world["firms"]["甲"], "pool", programme="listing")
    db.session.commit()
    login_as("admin")
    html = board(client, "listing")
    assert count(html, "pool") == 1 and "甲看板科技有限公司" in column(html, "pool")
    assert 'class="board-column board-column-narrow" id="board-column-neeq"' in html
    assert "尚未评估" not in html and "意向企业" not in html


# --- Filters -------------------------------------------------------------------------------------


def test_filters_narrow_cards_and_counts(client, login_as, world):
    login_as("admin")
    firms = world["firms"]
    by_district = board(client, district=world["away"].id)
    assert count(by_district, "prospect") == 1 and "戊看板科技有限公司" in by_district
    by_park = board(client, park=world["park"].id)
    assert count(by_park, "prospect") == 1 and "丁看板科技有限公司" in by_park
    assert "甲看板科技有限公司" not in by_park
    by_manager = board(client, manager=world["manager"].id)
    assert (count(by_manager, "prospect"), count(by_manager, "reserve")) == (1, 0)
    by_field = board(client, tech_field=world["field"].id)
    assert count(by_field, "prospect") == 1 and firms["丁"].name in by_field
    by_year = board(client, year=2025)
    assert (count(by_year, "prospect"), count(by_year, "reserve")) == (0, 1)
    assert '<option selected value="2025">2025 年</option>' in by_year
    by_name = board(client, q="丙看板")
    assert (count(by_name, "prospect"), count(by_name, "reserve")) == (0, 1)


def test_a_full_column_links_to_the_rest(app, client, login_as, world):
    app.config["BOARD_CARDS_PER_COLUMN"] = 2
    login_as("admin")
    html = board(client, district=world["home"].id)
    prospect = column(html, "prospect")
    assert prospect.count("board-card-name") == 2
    # By name, as the firm list sorts: 丁 (U+4E01), 乙 (U+4E59), then 甲 (U+7532).
    assert "丁看板科技有限公司" in prospect and "甲看板科技有限公司" not in prospect
    link = f"/pipeline/board/hte/stages/prospect?district={world['home'].id}"
    assert f'href="{link}">还有 1 家，查看全部</a>' in prospect
    assert count(html, "prospect") == 3
    rest = client.get(link).get_data(as_text=True)
    assert all(f"{c}看板科技有限公司" in rest for c in "甲乙丁")
    assert "戊看板科技有限公司" not in rest


def _loader(html: str) -> str:
    """Return the address a column's loader of further cards asks for."""
    match = re.search(
        r'hx-get="([^"]*/cards\?[^"]*)" hx-trigger="intersect once root:#board-list-\w+"', html
    )
    assert match, "no loader"
    return match.group(1).replace("&amp;", "&")


def test_a_full_column_loads_its_next_cards_when_scrolled_to_its_end(app, client, login_as, world):
    app.config["BOARD_CARDS_PER_COLUMN"] = 2
    login_as("admin")
    district = world["home"].id
    prospect = column(board(client, district=district), "prospect")
    # By name: 丁, 乙 shown; the loader asks for the cards after 乙.
    more = _loader(prospect)
    after = world["firms"]["乙"]
    assert more.startswith("/pipeline/board/hte/stages/prospect/cards?")
    assert f"after_id={after.id}" in more and f"district={district}" in more
    rest = client.get(more).get_data(as_text=True)
    assert rest.count("board-card-name") == 1 and "甲看板科技有限公司" in rest
    assert "丁看板科技有限公司" not in rest and "hx-get" not in rest  # the last page


def test_the_next_cards_keep_to_the_users_reach_and_the_filters(app, client, login_as, world):
    app.config["BOARD_CARDS_PER_COLUMN"] = 1
    login_as(user=world["manager"])
    more = _loader(column(board(client), "prospect"))
    pages = []
    while more:
        pages.append(client.get(more).get_data(as_text=True))
        more = _loader(pages[-1]) if "hx-get" in pages[-1] else None
    # By name: 丁 on the board, then 乙, 戊 (U+620A) out of reach, then 甲, the last.
    assert len(pages) == 2
    assert "乙看板科技有限公司" in pages[0] and "戊看板科技有限公司" not in "".join(pages)
    assert "甲看板科技有限公司" in pages[1]
    by_park = f"/pipeline/board/hte/stages/prospect/cards?after=&after_id=1&park={world['park'].id}"
    assert client.get(by_park).get_data(as_text=True).count("board-card-name") == 1  # 丁
    nowhere = "/pipeline/board/hte/stages/nowhere/cards?after=&after_id=1"
    assert client.get(nowhere).status_code == 404
    for after_id in ("", "0", "x", str(2**40)):
        cards = f"/pipeline/board/hte/stages/prospect/cards?after=&after_id={after_id}"
        assert client.get(cards).status_code == 404


def test_the_next_cards_follow_the_last_card_shown_when_cards_moved_meanwhile(
    app, client, login_as, world
):
    app.config["BOARD_CARDS_PER_COLUMN"] = 2
    login_as("admin")
    more = _loader(column(board(client), "prospect"))  # 丁 and 乙 shown
    # 丁 leaves the column before the user scrolls: by offset, 戊 would be skipped.
    moved = db.session.get(Enrollment, world["enrollments"]["丁"])
    moved.stage = next(s for s in moved.programme.stages if s.code == "reserve")
    db.session.commit()
    rest = client.get(more).get_data(as_text=True)
    assert "戊看板科技有限公司" in rest and "甲看板科技有限公司" in rest
    assert "乙看板科技有限公司" not in rest and "丁看板科技有限公司" not in rest


@pytest.mark.parametrize("walk", [True, False])
def test_a_column_gives_the_same_cards_whichever_way_it_is_read(
    app, client, login_as, world, monkeypatch, walk
):
    """On SQLite a large column walks the firm names and a small one sorts its enrollments
    (`board_queries._in_stage`); both give the same cards in the same order."""
    from crm.pipeline import board_queries

    monkeypatch.setattr(board_queries, "worth_walking", lambda count, wanted, span=None: walk)
    app.config["BOARD_CARDS_PER_COLUMN"] = 2
    login_as("admin")
    prospect = column(board(client), "prospect")
    names = re.findall(r'class="board-card-name[^>]*>([^<]+)<', prospect)
    assert names == ["丁看板科技有限公司", "乙看板科技有限公司"]
    rest = client.get(_loader(prospect)).get_data(as_text=True)
    assert re.findall(r'class="board-card-name[^>]*>([^<]+)<', rest) == [
        "戊看板科技有限公司",
        "甲看板科技有限公司",
    ]
    listed = client.get("/pipeline/board/hte/stages/prospect").get_data(as_text=True)
    assert [n for n in "丁乙戊甲" if f"{n}看板科技有限公司" in listed] == list("丁乙戊甲")


def test_a_large_column_walks_the_firm_names_on_sqlite(app, world):
    from crm.pipeline import board_queries
    from tests.plans import plan

    programme = db.session.scalar(select(Programme).filter_by(code="hte"))
    condition = board_queries._in_stage(programme.stages[0].id, count=1000, wanted=31)
    conditions = board_queries._conditions(
        world["manager"], programme.id, board_queries.BoardFilters(), NOW.date()
    )
    explained = plan(board_queries._ids([*conditions, condition]).limit(31))
    if db.engine.dialect.name == "sqlite":
        assert "ix_firms_live_name" in explained or "SCAN firms" in explained
        assert "TEMP B-TREE" not in explained
    else:
        # PostgreSQL chooses between the two by its statistics; the condition is left plain.
        assert "+ 0" not in str(condition.compile(db.engine))


# --- The move dialog -----------------------------------------------------------------------------


def test_the_dialog_asks_for_the_entry_reason_of_the_reserve_pool(client, login_as, world):
    login_as(user=world["manager"])
    e = world["enrollments"]["甲"]
    html = dialog(client, e, "reserve", district=world["home"].id).get_data(as_text=True)
    assert "转入「高企后备库」" in html
    assert f'name="move-{e}-entry_reason"' in html and f'name="move-{e}-moved_on"' in html
    assert f'name="move-{e}-target" value="reserve"' in html
    assert f'name="move-{e}-batch"' not in html and "document_number" not in html
    assert "override_reason" not in html
    assert f'hx-post="/pipeline/board/enrollments/{e}/move?district={world["home"].id}"' in html


def test_the_dialog_offers_only_open_batches_for_an_application(client, login_as, world):
    db.session.add_all(
        [
            CertificationBatch(
                year=2026, name="第一批", opens_on=date(2026, 5, 1), closes_on=date(2026, 7, 1)
            ),
            CertificationBatch(
                year=2026, name="第二批", opens_on=date(2026, 8, 1), closes_on=date(2026, 9, 1)
            ),
        ]
    )
    db.session.commit()
    login_as("admin")
    html = dialog(client, world["enrollments"]["丙"], "applied").get_data(as_text=True)
    assert "2026 年第一批" in html and "2026 年第二批" not in html
    assert "entry_reason" not in html


def test_the_dialog_asks_for_a_reason_and_document_on_exits_and_the_certificate(
    client, login_as, world
):
    login_as("admin")
    e = world["enrollments"]["甲"]
    exit_html = dialog(client, e, "moved").get_data(as_text=True)
    assert "原因" in exit_html and "转入该阶段必须填写原因" in exit_html
    assert f'name="move-{e}-document_number"' in exit_html
    review = db.session.get(Enrollment, world["enrollments"]["丙"])
    review.stage_id = next(s.id for s in review.programme.stages if s.code == "review")
    db.session.commit()
    cert_html = dialog(client, review.id, "certified").get_data(as_text=True)
    assert "certificate_number" in cert_html and "certificate_issued_on" in cert_html


def test_a_bureau_head_is_asked_for_the_override_reason(client, login_as, world):
    login_as("bureau_head")
    html = dialog(client, world["enrollments"]["甲"], "reserve").get_data(as_text=True)
    assert "override_reason" in html and "越过门槛并转入" in html


def test_a_forbidden_drop_answers_the_reason_without_a_form(client, login_as, world):
    login_as("admin")
    response = dialog(client, world["enrollments"]["甲"], "applied")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "data-refused" in html and "不能从「意向企业」直接转入「已申报」" in html
    assert "<form" not in html


def test_the_dialog_of_a_firm_out_of_reach_is_not_found(client, login_as, world):
    login_as(user=world["manager"])
    assert dialog(client, world["enrollments"]["戊"], "reserve").status_code == 404
    assert move(client, world["enrollments"]["戊"], "reserve", entry_reason="4").status_code == 404
    assert dialog(client, factories.MISSING_ID, "reserve").status_code == 404


# --- Moves ---------------------------------------------------------------------------------------


def test_a_move_from_the_dialog_records_the_transition_and_updates_the_board(
    client, login_as, world
):
    manager = login_as(user=world["manager"])
    e = world["enrollments"]["甲"]
    response = move(client, e, "reserve", query={"district": world["home"].id}, entry_reason="3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "data-moved" in html and "「甲看板科技有限公司」已转入「高企后备库」。" in html
    assert f'id="board-card-{e}"' in html and 'hx-swap-oob="outerHTML"' in html
    assert "本阶段 0 天" in html
    assert (count(html, "prospect"), count(html, "reserve")) == (2, 2)
    db.session.expire_all()
    enrollment = db.session.get(Enrollment, e)
    assert (enrollment.stage.code, enrollment.entry_reason) == ("reserve", 3)
    last = enrollment.transitions[-1]
    assert (last.from_stage.code, last.to_stage.code) == ("prospect", "reserve")
    assert (last.by_id, last.moved_on, last.is_override) == (manager.id, date(2026, 6, 15), False)


def test_a_refused_move_answers_the_reasons_and_changes_nothing(client, login_as, world):
    login_as("admin")
    e = world["enrollments"]["乙"]
    response = move(client, e, "reserve")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "未能变更阶段" in html
    assert "进入高企后备库需选择入库理由" in html
    assert "进入高企后备库需填写企业技术领域" in html
    assert "请补齐上述要求，或请局领导越过门槛" in html
    assert "data-moved" not in html and "hx-swap-oob" not in html
    assert stage_of(e) == "prospect" and transitions(e) == 1


def test_a_forbidden_move_posted_anyway_is_refused(client, login_as, world):
    login_as("admin")
    e = world["enrollments"]["甲"]
    html = move(client, e, "certified", certificate_number="GR1").get_data(as_text=True)
    assert "data-refused" in html and "不能从「意向企业」直接转入「已认定高企」" in html
    assert stage_of(e) == "prospect" and transitions(e) == 1


def test_a_bureau_head_moves_only_with_an_override_reason(client, login_as, world):
    head = login_as("bureau_head")
    e = world["enrollments"]["乙"]
    html = move(client, e, "reserve").get_data(as_text=True)
    assert "局领导变更阶段需填写越过门槛的理由" in html
    assert stage_of(e) == "prospect"
    html = move(client, e, "reserve", override_reason="局务会研究同意").get_data(as_text=True)
    assert "已越过门槛转入「高企后备库」，理由已记录" in html
    db.session.expire_all()
    last = db.session.get(Enrollment, e).transitions[-1]
    assert (last.to_stage.code, last.is_override, last.by_id) == ("reserve", True, head.id)
    assert last.override_reason == "局务会研究同意"


def test_a_move_that_ends_the_enrollment_removes_the_card(client, login_as, world):
    login_as("admin")
    e = world["enrollments"]["甲"]
    html = move(client, e, "closed", reason="企业已注销").get_data(as_text=True)
    assert f'<div id="board-card-{e}" hx-swap-oob="delete"></div>' in html
    assert "不再显示在看板上" in html
    assert count(html, "prospect") == 3 and count(html, "closed") == 0
    assert db.session.get(Enrollment, e).closed_on == date(2026, 6, 15)


def test_an_invalid_date_shows_on_the_field(client, login_as, world):
    login_as("admin")
    e = world["enrollments"]["甲"]
    html = move(client, e, "reserve", entry_reason="4", moved_on="2026-13-40").get_data(
        as_text=True
    )
    assert "is-invalid" in html and stage_of(e) == "prospect"


def test_moves_and_bulk_moves_need_the_csrf_token(app, client, world):
    # The app of this test only; a second app would open a second pool of connections.
    app.config["WTF_CSRF_ENABLED"] = True
    admin = factories.make_user("admin")
    db.session.commit()
    e = world["enrollments"]["甲"]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(TOKEN, page).group(1)
    data = {"username": admin.username, "password": factories.PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    assert move(client, e, "reserve", entry_reason="4").status_code == 400
    bulk = {"bulk-enrollments": e, "bulk-target": "reserve", "bulk-entry_reason": "4"}
    assert client.post("/pipeline/board/hte/bulk", data=bulk).status_code == 400
    assert transitions(e) == 1
    html = client.get("/pipeline/board/hte").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    response = client.post(
        f"/pipeline/board/enrollments/{e}/move",
        data={f"move-{e}-target": "reserve", f"move-{e}-entry_reason": "4"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert "data-moved" in response.get_data(as_text=True)
    assert transitions(e) == 2
    response = client.post("/pipeline/board/hte/bulk", data={**bulk, "bulk-csrf_token": token})
    assert response.status_code == 200  # past the token, on to 甲's gate
    assert "不能从「高企后备库」直接转入「高企后备库」" in response.get_data(as_text=True)


# --- Bulk moves ----------------------------------------------------------------------------------


def bulk(client, ids, target, **fields):
    data = {"bulk-enrollments": [str(i) for i in ids], "bulk-target": target}
    data.update({f"bulk-{k}": v for k, v in fields.items()})
    return client.post("/pipeline/board/hte/bulk", data=data)


def test_a_bulk_move_reports_which_firms_moved_and_which_did_not(client, login_as, world):
    login_as("admin")
    ids = world["enrollments"]
    response = bulk(client, [ids["甲"], ids["乙"], ids["丁"]], "reserve", entry_reason="4")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "批量转入「高企后备库」的结果" in html
    assert "已转入 <span" in html and ">2</span> 家" in html
    moved = html[html.index('id="bulk-moved"') : html.index('id="bulk-refused"')]
    refused = html[html.index('id="bulk-refused"') :]
    assert "甲看板科技有限公司" in moved and "丁看板科技有限公司" in moved
    assert "乙看板科技有限公司" in refused and "进入高企后备库需填写企业技术领域" in refused
    assert [stage_of(ids[k]) for k in "甲乙丁"] == ["reserve", "prospect", "reserve"]
    assert [transitions(ids[k]) for k in "甲乙丁"] == [2, 1, 2]


def test_a_bulk_move_refuses_forbidden_routes_firm_by_firm(client, login_as, world):
    login_as("admin")
    ids = world["enrollments"]
    html = bulk(client, [ids["甲"], ids["丙"]], "coaching").get_data(as_text=True)
    assert "不能从「意向企业」直接转入「一企一策辅导」" in html
    assert "进入一企一策辅导需先制定本年度辅导方案" in html
    assert [stage_of(ids[k]) for k in "甲丙"] == ["prospect", "reserve"]


def test_a_manager_bulk_move_skips_firms_out_of_reach(client, login_as, world):
    login_as(user=world["manager"])
    ids = world["enrollments"]
    html = bulk(client, [ids["甲"], ids["戊"]], "reserve", entry_reason="4").get_data(as_text=True)
    assert "另有 1 条所选记录不在高企培育中或您无权查看，已跳过" in html
    assert "戊看板科技有限公司" not in html
    assert (stage_of(ids["甲"]), stage_of(ids["戊"])) == ("reserve", "prospect")


def test_a_bureau_head_bulk_move_needs_the_override_reason(client, login_as, world):
    login_as("bureau_head")
    ids = world["enrollments"]
    html = bulk(client, [ids["甲"]], "reserve", entry_reason="4").get_data(as_text=True)
    assert "局领导变更阶段需填写越过门槛的理由" in html and stage_of(ids["甲"]) == "prospect"
    html = bulk(
        client, [ids["甲"], ids["乙"]], "reserve", entry_reason="4", override_reason="专项推进"
    ).get_data(as_text=True)
    assert "越过门槛</span>" in html
    assert (stage_of(ids["甲"]), stage_of(ids["乙"])) == ("reserve", "reserve")


def test_a_bulk_move_without_a_selection_goes_back_with_the_reason(client, login_as, world):
    login_as("admin")
    response = client.post("/pipeline/board/hte/bulk?district=1", data={"bulk-target": "reserve"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/pipeline/board/hte?district=1"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "请先勾选要转入的企业" in html


def test_a_bulk_move_never_enters_certified(client, login_as, world):
    login_as("admin")
    html = board(client)
    assert 'name="bulk-target"' in html
    bulk_select = html[
        html.index('name="bulk-target"') : html.index("</select>", html.index('name="bulk-target"'))
    ]
    assert 'value="certified"' not in bulk_select and 'value="reserve"' in bulk_select
    response = bulk(client, [world["enrollments"]["丙"]], "certified")
    assert response.status_code == 302
