"""In a real browser a manager drags cards on the kanban board: one move goes through, one not."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.extensions import db
from crm.pipeline.models import Enrollment, StageTransition
from crm.pipeline.services import MoveInputs, enroll_firm
from tests import factories

# The live server answers from threads of its own, which see only what is committed.
pytestmark = [pytest.mark.browser, pytest.mark.real_commits]
#: 2026-06-15 10:00 in Asia/Shanghai.
NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def board_world(app):
    home = factories.district("450403")
    manager = factories.make_user("manager", name="李专员", districts=[home])
    firms = [
        factories.make_firm(name=name, district=home, manager=manager)
        for name in ("梧州看板拖动科技有限公司", "梧州看板留守科技有限公司")
    ]
    db.session.commit()
    enrollments = [
        enroll_firm(firm, "hte", "prospect", MoveInputs(moved_on=date(2026, 1, 5)), None).enrollment
        for firm in firms
    ]
    db.session.commit()
    return {"manager": manager, "enrollments": [e.id for e in enrollments]}


def log_in(page, live_server, user):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/todo")


def drag(page, card, column):
    """Drag `card` onto `column` with the mouse, in small steps as a person would."""
    source = card.bounding_box()
    target = column.locator(".board-list").bounding_box()
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + 12)
    page.mouse.down()
    page.mouse.move(source["x"] + source["width"] / 2 + 10, source["y"] + 20, steps=5)
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 30, steps=20)
    page.mouse.up()


def test_a_manager_drags_a_card_into_the_reserve_pool_and_a_forbidden_drop_snaps_back(
    page, live_server, board_world
):
    log_in(page, live_server, board_world["manager"])
    page.get_by_role("link", name="培育看板").click()
    page.wait_for_url(f"{live_server}/pipeline/board/hte")
    page.evaluate("window.boardNotReloaded = true")

    prospect = page.locator("#board-column-prospect")
    reserve = page.locator("#board-column-reserve")
    applied = page.locator("#board-column-applied")
    moving, staying = board_world["enrollments"]
    assert page.locator("#board-count-prospect").inner_text() == "2"
    assert page.locator("#board-count-reserve").inner_text() == "0"

    # A move the programme forbids snaps back with the reason, and no dialog opens.
    drag(page, page.locator(f"#board-card-{staying}"), applied)
    page.get_by_text("不能从「意向企业」直接转入「已申报」").wait_for()
    prospect.locator(f"#board-card-{staying}").wait_for()
    assert applied.locator(".board-card").count() == 0
    assert not page.locator("#board-dialog").is_visible()

    # A move into the reserve pool asks for the entry reason, then lands.
    drag(page, page.locator(f"#board-card-{moving}"), reserve)
    dialog = page.locator("#board-dialog")
    dialog.get_by_text("转入「高企后备库」").wait_for()
    dialog.get_by_label("入库理由").select_option("4")
    dialog.get_by_role("button", name="确认转入").click()
    dialog.wait_for(state="hidden")
    card = reserve.locator(f"#board-card-{moving}")
    card.wait_for()
    assert "本阶段 0 天" in card.inner_text()
    assert page.locator("#board-count-reserve").inner_text() == "1"
    assert page.locator("#board-count-prospect").inner_text() == "1"
    page.get_by_text("「梧州看板拖动科技有限公司」已转入「高企后备库」。").first.wait_for()
    assert page.evaluate("window.boardNotReloaded") is True

    db.session.expire_all()
    enrollment = db.session.get(Enrollment, moving)
    assert (enrollment.stage.code, enrollment.entry_reason) == ("reserve", 4)
    moves = db.session.scalars(
        select(StageTransition).where(StageTransition.enrollment_id == staying)
    ).all()
    assert len(moves) == 1
    assert page.problems == []


def test_cancelling_the_dialog_puts_the_card_back(page, live_server, board_world):
    log_in(page, live_server, board_world["manager"])
    page.goto(f"{live_server}/pipeline/board/hte")
    moving = board_world["enrollments"][0]
    drag(page, page.locator(f"#board-card-{moving}"), page.locator("#board-column-reserve"))
    dialog = page.locator("#board-dialog")
    dialog.get_by_text("转入「高企后备库」").wait_for()
    dialog.get_by_role("button", name="取消").first.click()
    dialog.wait_for(state="hidden")
    page.locator(f"#board-column-prospect #board-card-{moving}").wait_for()
    assert page.locator("#board-column-reserve .board-card").count() == 0
    db.session.expire_all()
    assert db.session.get(Enrollment, moving).stage.code == "prospect"
    assert page.problems == []


def test_a_manager_moves_ticked_cards_in_bulk(page, live_server, board_world):
    log_in(page, live_server, board_world["manager"])
    page.goto(f"{live_server}/pipeline/board/hte")
    page.get_by_text("批量转入…").click()
    submit = page.get_by_role("button", name="批量转入", exact=True)
    assert submit.is_disabled()
    for enrollment_id in board_world["enrollments"]:
        page.locator(f"#board-card-{enrollment_id} input.board-select").check()
    assert page.locator("#board-selected").inner_text() == "2"
    page.select_option("select[name=bulk-target]", "reserve")
    page.select_option("select[name=bulk-entry_reason]", "6")
    submit.click()
    page.get_by_text("批量转入「高企后备库」的结果").wait_for()
    moved = page.locator("#bulk-moved")
    assert "梧州看板拖动科技有限公司" in moved.inner_text()
    assert "梧州看板留守科技有限公司" in moved.inner_text()
    db.session.expire_all()
    stages = [db.session.get(Enrollment, e).stage.code for e in board_world["enrollments"]]
    assert stages == ["reserve", "reserve"]
    assert page.problems == []


def test_scrolling_a_full_column_to_its_end_loads_the_next_cards(app, page, live_server):
    app.config["BOARD_CARDS_PER_COLUMN"] = 8
    home = factories.district("450403")
    manager = factories.make_user("manager", name="李专员", districts=[home])
    firms = [
        factories.make_firm(name=f"梧州看板第{n:02d}科技有限公司", district=home, manager=manager)
        for n in range(1, 21)
    ]
    db.session.commit()
    for firm in firms:
        enroll_firm(firm, "hte", "prospect", MoveInputs(moved_on=date(2026, 1, 5)), None)
    db.session.commit()
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/pipeline/board/hte")
    column = page.locator("#board-column-prospect")
    cards = column.locator(".board-card")
    assert page.locator("#board-count-prospect").inner_text() == "20"
    # The first page fills more than the column's height: nothing more loads until scrolled.
    page.wait_for_timeout(300)
    assert cards.count() == 8

    def scroll_to_end():
        column.locator(".board-list").evaluate("list => { list.scrollTop = list.scrollHeight; }")

    scroll_to_end()
    column.get_by_text("梧州看板第16科技有限公司").wait_for()
    assert cards.count() == 16
    scroll_to_end()
    column.get_by_text("梧州看板第20科技有限公司").wait_for()
    assert cards.count() == 20
    assert column.locator(".board-more-cards").count() == 0
    assert page.problems == []
