"""The 时间线 tab of the firm page: who sees it, the items newest first, "更早的记录"."""

import re
from datetime import date, datetime

import pytest

from crm.coaching import services as coaching
from crm.core import clock
from crm.core.audit import audit_source
from crm.extensions import db
from crm.pipeline.services import MoveInputs, enroll_firm
from tests import factories

NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def world(app):
    """A firm in 万秀区 with a short history, and a firm in 长洲区."""
    home, away = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager", districts=[home], name="陈专员")
    own = factories.make_firm(district=home, manager=manager, name="梧州云帆科技有限公司")
    other = factories.make_firm(district=away)
    db.session.commit()
    with audit_source("web", manager.id):
        enroll_firm(
            own, "hte", "reserve", MoveInputs(entry_reason=4, moved_on=date(2026, 5, 1)), manager
        )
        for day, notes in ((date(2026, 5, 10), "首次走访"), (date(2026, 6, 1), "二次走访")):
            coaching.log_activity(
                own, {"kind": "visit", "occurred_on": day, "notes": notes}, manager
            )
        db.session.commit()
    return {"manager": manager, "own": own, "other": other}


def timeline(client, firm, **args):
    response = client.get(f"/firms/{firm.id}", query_string={"tab": "timeline", **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def titles(html: str) -> list[str]:
    return [t.strip() for t in re.findall(r'<span class="timeline-title">\s*([^<]+)', html)]


def older_link(html: str) -> str | None:
    match = re.search(r'<li id="timeline-more"[^>]*>\s*<a[^>]*href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_a_manager_reads_the_timeline_newest_first(client, login_as, world):
    login_as(user=world["manager"])
    html = timeline(client, world["own"])
    assert f'aria-current="page" href="/firms/{world["own"].id}?tab=timeline"' in html
    assert titles(html) == [
        "新建企业信息：梧州云帆科技有限公司",  # registered today
        "走访：二次走访",
        "走访：首次走访",
        "加入高企培育（高企后备库）",
    ]
    assert "原因" not in html  # the enrollment gave no reason
    assert "陈专员" in html and "2026-05-10" in html
    assert older_link(html) is None
    assert "<script>" not in html and "style=" not in html


def test_older_records_come_a_page_at_a_time(app, client, login_as, world):
    app.config["FIRM_TIMELINE_PER_PAGE"] = 3
    login_as(user=world["manager"])
    html = timeline(client, world["own"])
    assert titles(html) == [
        "新建企业信息：梧州云帆科技有限公司",
        "走访：二次走访",
        "走访：首次走访",
    ]
    assert "回到最新记录" not in html
    link = older_link(html)
    assert link is not None and "before=" in link
    assert f'hx-get="{link.replace("&", "&amp;")}"' in html
    assert 'hx-select="#timeline-items > li" hx-target="#timeline-more"' in html
    # htmx asks for the same page and picks the new items (and the next link) out of it.
    response = client.get(link, headers={"HX-Request": "true"})
    older = response.get_data(as_text=True)
    assert response.status_code == 200
    assert titles(older) == ["加入高企培育（高企后备库）"]
    assert older_link(older) is None
    assert "回到最新记录" in older


def test_a_malformed_cursor_shows_the_newest_records(client, login_as, world):
    login_as(user=world["manager"])
    html = timeline(client, world["own"], before="not-a-cursor")
    assert titles(html)[:2] == ["新建企业信息：梧州云帆科技有限公司", "走访：二次走访"]


def test_a_bureau_head_reads_any_firms_timeline(client, login_as, world):
    login_as("bureau_head")
    html = timeline(client, world["other"])
    assert titles(html) == [f"新建企业信息：{world['other'].name}"]


def test_a_manager_cannot_open_another_districts_timeline(client, login_as, world):
    login_as(user=world["manager"])
    response = client.get(f"/firms/{world['other'].id}?tab=timeline")
    assert response.status_code == 404


def test_an_enterprise_user_does_not_get_the_tab(client, login_as, world):
    login_as("enterprise", firm_id=world["own"].id)
    response = client.get(f"/firms/{world['own'].id}?tab=timeline")
    html = response.get_data(as_text=True)
    assert response.status_code == 404  # the bureau's firm page, its tabs included
    assert "时间线" not in html
    assert "timeline-items" not in html and "走访：二次走访" not in html
