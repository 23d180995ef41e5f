"""Read-side queries of the firm pages: filters, search, sorting, count-free paging, history."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from crm.core.audit import audit_source
from crm.extensions import db
from crm.firms import history, queries, rules
from crm.firms.models import Firm, FirmFormerName
from crm.reference.models import Industry, Park, TechField
from tests import factories

TODAY = date(2026, 6, 15)


def names(user, **filters):
    page = queries.list_firms(user, queries.FirmFilters(**filters), 1, 50, TODAY)
    return [firm.name for firm in page.items]


@pytest.fixture
def admin(app):
    user = factories.make_user("admin")
    db.session.commit()
    return user


def test_each_filter_narrows_the_list(app, admin):
    other_district = factories.district("450405")
    park = Park(name="测试园区")
    industry = db.session.scalars(select(Industry).order_by(Industry.id.desc())).first()
    field = db.session.scalars(select(TechField).order_by(TechField.id.desc())).first()
    manager = factories.make_user("manager")
    db.session.add(park)
    plain = factories.make_firm(name="甲普通公司")
    factories.make_firm(name="乙区县公司", district=other_district)
    factories.make_firm(name="丙园区公司", park=park)
    factories.make_firm(name="丁行业公司", industry=industry)
    factories.make_firm(name="戊领域公司", tech_field=field)
    factories.make_firm(name="己专员公司", manager=manager)
    db.session.commit()
    assert names(admin, district_id=other_district.id) == ["乙区县公司"]
    assert names(admin, park_id=park.id) == ["丙园区公司"]
    assert names(admin, industry_id=industry.id) == ["丁行业公司"]
    assert names(admin, tech_field_id=field.id) == ["戊领域公司"]
    assert names(admin, manager_id=manager.id) == ["己专员公司"]
    assert plain.name in names(admin)
    assert len(names(admin)) == 6


def test_tier_filter_keeps_only_firms_holding_the_tier_now(app, admin):
    current = factories.make_firm(name="现持高企公司")
    expired = factories.make_firm(name="高企已过期公司")
    sme = factories.make_firm(name="科小公司")
    # The HTE tier is the certificate's dates: issued 8 December 2023, valid to 7 December 2026.
    factories.make_certificate(current, date(2023, 12, 8))
    factories.make_certificate(expired, date(2023, 5, 20))  # valid to 19 May 2026
    factories.make_qualification(sme, "tech_sme", 2026)
    db.session.commit()
    assert names(admin, tier="hte") == ["现持高企公司"]
    assert names(admin, tier="tech_sme") == ["科小公司"]
    assert len(names(admin, tier="unknown")) == 3


def test_text_search_matches_name_former_name_and_uscc(app, admin):
    code = factories.make_uscc(serial=424242)
    factories.make_firm(name="梧州星辰科技有限公司", uscc=code)
    renamed = factories.make_firm(name="梧州新名称有限公司")
    factories.make_firm(name="其他公司")
    db.session.add(FirmFormerName(firm=renamed, name="梧州老字号有限公司"))
    db.session.commit()
    assert names(admin, q="星辰") == ["梧州星辰科技有限公司"]
    assert names(admin, q="老字号") == ["梧州新名称有限公司"]
    full_width_lower = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())
    assert names(admin, q=full_width_lower) == ["梧州星辰科技有限公司"]
    assert names(admin, q=code[:17].lower()) == ["梧州星辰科技有限公司"]
    assert names(admin, q="%") == []


def test_sorting_by_each_whitelisted_column(app, admin):
    early = factories.make_firm(name="B 公司", established_on=date(2001, 1, 1))
    late = factories.make_firm(
        name="A 公司", established_on=date(2020, 1, 1), district=factories.district("450481")
    )
    db.session.commit()
    late.notes = "更新"
    db.session.commit()
    assert names(admin, sort="name") == ["A 公司", "B 公司"]
    assert names(admin, sort="-name") == ["B 公司", "A 公司"]
    assert names(admin, sort="established_on") == ["B 公司", "A 公司"]
    assert names(admin, sort="-established_on") == ["A 公司", "B 公司"]
    assert names(admin, sort="district") == ["B 公司", "A 公司"]
    assert names(admin, sort="-district") == ["A 公司", "B 公司"]
    assert names(admin, sort="-updated_at")[0] == "A 公司"
    assert early.id < late.id


@pytest.mark.parametrize("raw", ["password", "--name", "name-", "", None, "-"])
def test_unknown_sorts_fall_back_to_name(raw):
    assert queries.normalise_sort(raw) == "name"


def test_paging_knows_the_next_page_without_counting(app, admin):
    for n in range(5):
        factories.make_firm(name=f"分页公司{n}")
    db.session.commit()
    statements = []

    def capture(conn, cursor, statement, *args):
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        first = queries.list_firms(admin, queries.FirmFilters(), 1, 2, TODAY)
        last = queries.list_firms(admin, queries.FirmFilters(), 3, 2, TODAY)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert (first.number, first.has_prev, first.has_next, len(first.items)) == (1, False, True, 2)
    assert (last.number, last.has_prev, last.has_next, len(last.items)) == (3, True, False, 1)
    assert not any("count(" in s for s in statements)


def test_a_manager_sees_firms_of_their_districts_and_firms_assigned_to_them(app):
    mine = factories.district("450403")
    other = factories.district("450405")
    manager = factories.make_user("manager", districts=[mine])
    factories.make_firm(name="本区公司", district=mine)
    factories.make_firm(name="指派公司", district=other, manager=manager)
    factories.make_firm(name="他区公司", district=other)
    db.session.commit()
    assert sorted(names(manager)) == sorted(["本区公司", "指派公司"])


def test_deleted_firms_are_hidden_unless_an_admin_asks(app, admin):
    factories.make_firm(name="在册公司")
    factories.make_firm(name="已删公司", deleted_at=datetime(2026, 1, 1))
    manager = factories.make_user("manager", districts=[factories.district()])
    db.session.commit()
    assert names(admin) == ["在册公司"]
    assert names(admin, deleted=True) == ["已删公司"]
    assert names(manager, deleted=True) == ["在册公司"]


def test_tiers_held_lists_current_tiers_per_firm_in_one_query(app):
    firm = factories.make_firm()
    factories.make_qualification(firm, "tech_sme", 2026)
    factories.make_certificate(firm, date(2025, 12, 8))
    factories.make_qualification(firm, "gazelle", 2024)  # one-year tier, lapsed
    db.session.commit()
    assert queries.tiers_held([firm.id], TODAY) == {firm.id: ["高新技术企业", "科技型中小企业"]}
    assert queries.tiers_held([], TODAY) == {}


def test_uscc_owner_includes_deleted_firms_and_visibility_follows_permissions(app):
    code = factories.make_uscc(serial=777)
    owner = factories.make_firm(uscc=code, deleted_at=datetime(2026, 1, 1))
    admin = factories.make_user("admin")
    manager = factories.make_user("manager", districts=[factories.district()])
    db.session.commit()
    assert queries.uscc_owner(code) == owner
    assert queries.uscc_owner(code, exclude_id=owner.id) is None
    assert queries.is_visible(admin, owner.id)
    assert not queries.is_visible(manager, owner.id)


def test_history_rows_speak_chinese_and_resolve_references(app):
    admin = factories.make_user("admin", name="王管理")
    manager = factories.make_user("manager", name="赵专员")
    firm = factories.make_firm(name="历史公司", registered_capital=Decimal("1000000"))
    factories.make_year(firm, 2024)
    db.session.commit()
    with audit_source("web", admin.id):
        firm.manager_id = manager.id
        firm.is_above_scale = True
        firm.registered_capital = Decimal("2500000")
        firm.district = factories.district("450405")
        db.session.commit()
    entries = queries.history_page(firm, 1, 50).items
    rows = {row.field: row for row in history.history_rows(entries) if row.field}
    assert rows["服务专员"].new == "赵专员"
    assert rows["服务专员"].old == ""
    assert rows["规上企业"].old == "否" and rows["规上企业"].new == "是"
    assert rows["注册资本（万元）"].old == "100.00 万元"
    assert rows["注册资本（万元）"].new == "250.00 万元"
    assert rows["所属县（市、区）"].new == "长洲区"
    assert {row.actor for row in rows.values()} == {"王管理"}
    assert {row.source for row in rows.values()} == {"网页"}
    created = [r for r in history.history_rows(entries) if r.action == "新建"]
    assert {r.summary for r in created} == {"历史公司", "2024 年度"}
    assert all(r.actor == "系统" for r in created)


def test_history_page_is_newest_first(app):
    firm = factories.make_firm()
    db.session.commit()
    firm.notes = "一"
    db.session.commit()
    page = queries.history_page(firm, 1, 1)
    assert page.items[0].action == "update"
    assert page.has_next


def test_ratio_handles_missing_and_zero_divisors():
    assert rules.ratio(Decimal(1), Decimal(4)) == Decimal("0.25")
    assert rules.ratio(None, Decimal(4)) is None
    assert rules.ratio(Decimal(1), 0) is None


def test_get_child_refuses_a_row_of_another_firm(app):
    from werkzeug.exceptions import NotFound

    a = factories.make_firm()
    b = factories.make_firm()
    row = factories.make_year(a, 2024)
    assert queries.get_child(type(row), a, row.id) is row
    with pytest.raises(NotFound):
        queries.get_child(type(row), b, row.id)
    assert isinstance(a, Firm)


def test_the_district_sort_pages_through_every_district_in_its_order(app, admin):
    from crm.reference.models import District

    districts = list(db.session.scalars(select(District).order_by(District.code)))[:3]
    # Give the districts an order unlike their ids', so the list cannot follow the ids.
    for rank, district in enumerate(reversed(districts)):
        district.sort_order = rank
    firms = [factories.make_firm(name=f"分页公司{n}", district=districts[n % 3]) for n in range(10)]
    firms += [factories.make_firm(name=f"无区县公司{n}", district=None) for n in range(2)]
    db.session.commit()
    rank = {d.id: d.sort_order for d in districts}
    expected = sorted(
        firms, key=lambda f: (f.district_id is None, rank.get(f.district_id, 0), f.id)
    )
    for sort, order in (("district", expected), ("-district", expected[::-1])):
        seen = []
        for number in range(1, 6):
            page = queries.list_firms(admin, queries.FirmFilters(sort=sort), number, 3, TODAY)
            seen += page.items
            assert page.has_next == (number < 4)
        assert [f.name for f in seen] == [f.name for f in order]
    # A manager pages through exactly their reach: their districts and their assigned firms.
    manager = factories.make_user("manager", districts=[districts[0]])
    firms[1].manager = manager
    db.session.commit()
    reach = [f for f in expected if f.district_id == districts[0].id or f.manager is manager]
    seen = []
    for number in range(1, 4):
        page = queries.list_firms(manager, queries.FirmFilters(sort="district"), number, 2, TODAY)
        seen += page.items
    assert [f.name for f in seen] == [f.name for f in reach] and not page.has_next
    # A page past the end is empty; a filter narrows the pages the same way.
    assert queries.list_firms(admin, queries.FirmFilters(sort="district"), 9, 3, TODAY).items == []
    in_one = queries.list_firms(
        admin, queries.FirmFilters(sort="-district", district_id=districts[1].id), 1, 50, TODAY
    )
    assert [f.id for f in in_one.items] == sorted(
        (f.id for f in firms if f.district_id == districts[1].id), reverse=True
    )


@pytest.mark.parametrize("district_id", [None, 1])
@pytest.mark.parametrize("descending", [False, True])
def test_a_district_of_the_firm_list_is_read_off_an_index_in_order(
    app, admin, district_id, descending
):
    from tests.plans import sorts_rows

    stmt = queries.filtered_firms(admin, queries.FirmFilters(), TODAY)
    assert not sorts_rows(queries.firms_in_district(stmt, district_id, descending).limit(51))


def test_a_code_prefix_is_matched_by_a_range_of_the_codes(app, admin):
    codes = (
        "914504039000000001",
        "91450403A000000002",
        "91450403Z000000003",
        "91450403ZZ00000004",
        "914504040000000005",
    )
    for code in codes:
        factories.make_firm(name=f"代码{code[-1]}公司", uscc=code)
    db.session.commit()

    def found(q):
        return sorted(names(admin, q=q))

    assert found("914504039") == ["代码1公司"]
    assert found("91450403a") == ["代码2公司"]
    # A prefix ending in Z reaches up to the next prefix, not into it.
    assert found("91450403Z") == ["代码3公司", "代码4公司"]
    assert found("91450403ZZ") == ["代码4公司"]
    assert found("91450403") == ["代码1公司", "代码2公司", "代码3公司", "代码4公司"]
    assert found("ZZZZZZ") == []


@pytest.mark.parametrize("sort", ["name", "-name", "established_on", "-updated_at", "updated_at"])
def test_each_sort_of_the_firm_list_reads_an_index_in_order(app, admin, sort):
    from tests.plans import sorts_rows

    stmt = queries.firm_list_select(admin, queries.FirmFilters(sort=sort), TODAY).limit(51)
    assert not sorts_rows(stmt)


@pytest.mark.parametrize("tier", ["hte", "tech_sme"])
def test_the_tier_filter_keeps_the_list_in_index_order(app, admin, tier):
    from tests.plans import sorts_rows

    stmt = queries.firm_list_select(
        admin, queries.FirmFilters(tier=tier, sort="-updated_at"), TODAY
    ).limit(51)
    assert not sorts_rows(stmt)


def test_a_managers_firm_list_reads_the_sort_index_in_order(app):
    from tests.plans import sorts_rows

    manager = factories.make_user("manager", districts=[factories.district()])
    db.session.commit()
    stmt = queries.firm_list_select(manager, queries.FirmFilters(sort="-updated_at"), TODAY)
    assert not sorts_rows(stmt.limit(51))


def test_a_search_is_read_off_indexes(app, admin):
    from tests.plans import plan

    explained = plan(select(Firm.id).where(queries.text_condition("梧州老字号有限公司")))
    if db.engine.dialect.name == "postgresql":
        # Each part of the condition has an index: the names' trigrams and the former names'.
        assert "ix_firms_name_trigrams" in explained
        assert "ix_firm_former_names_name_trigrams" in explained
    else:
        # SQLite tests each firm's name, and finds the former names once, not firm by firm.
        assert "CORRELATED" not in explained


def test_a_managers_whole_reach_is_read_through_the_indexes(app):
    from crm.firms.access import firm_scope
    from tests.plans import plan

    mine, other = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager", districts=[mine])
    in_district = factories.make_firm(district=mine)
    assigned = factories.make_firm(district=other, manager=manager)
    factories.make_firm(district=other)
    db.session.commit()

    def reach(every):
        return set(db.session.scalars(select(Firm.id).where(firm_scope(manager, every=every))))

    assert reach(True) == reach(False) == {in_district.id, assigned.id}
    if db.engine.dialect.name == "sqlite":
        # The firms in reach come through the district and manager indexes, not a scan of all.
        # (PostgreSQL hashes the covered districts and scans either way.)
        explained = plan(select(Firm.id).where(firm_scope(manager, every=True)))
        assert "SCAN firms" not in explained and "ix_firms_manager_id" in explained
