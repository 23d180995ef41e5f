"""`flask crm demo`: a believable city of firms, loaded once, with logins that work."""

import gc
import random
import re
import stat
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.accounts.models import User
from crm.accounts.rules import password_problem
from crm.certification.models import Duty
from crm.coaching.models import Activity
from crm.core import clock
from crm.core.audit import AuditEntry, audit_source
from crm.demo import figures, generator, helpers
from crm.demo.logins import LOGINS_FILE, read_logins
from crm.extensions import db
from crm.firms import rules, uscc
from crm.firms.certificates import firms_certified_on
from crm.firms.models import (
    Certificate,
    Firm,
    FirmContact,
    FirmFormerName,
    FirmYear,
    IPItem,
    Qualification,
)
from crm.pipeline.models import Enrollment, Programme, Stage, StageTransition
from crm.portal.models import ChangeRequest
from crm.reference.cities import CITIES
from crm.reference.models import District
from crm.reminders.models import Reminder
from crm.reminders.scan import scan
from crm.support.models import SupportEntry
from tests.conftest import make_app

TODAY = date(2026, 3, 15)
LAST_YEAR = TODAY.year - 1
LOGIN_LINE = re.compile(r"用户名 (\S+)\s+密码 (\S+)")


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    """Keep the logins file of the test out of the real instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


def generate(firms=60, seed=7, city="wuzhou"):
    with audit_source("cli"):
        summary = generator.generate_demo(city, firms, seed, TODAY)
        db.session.commit()
    return summary


def years_by_firm() -> dict[int, list[FirmYear]]:
    rows: dict[int, list[FirmYear]] = {}
    for row in db.session.scalars(select(FirmYear).order_by(FirmYear.year)):
        rows.setdefault(row.firm_id, []).append(row)
    return rows


def rd_threshold(sales: Decimal) -> Decimal:
    if sales <= 50_000_000:
        return Decimal("0.05")
    return Decimal("0.04") if sales <= 200_000_000 else Decimal("0.03")


def printed_logins(output: str) -> dict[str, str]:
    return dict(LOGIN_LINE.findall(output))


def test_generate_demo_creates_firms_with_valid_unique_codes_of_the_citys_districts(app):
    generate(firms=60)
    firms = db.session.scalars(select(Firm)).all()
    assert len(firms) == 60
    codes = [f.uscc for f in firms]
    assert len(set(codes)) == 60
    wuzhou = {code for code, *_ in CITIES["wuzhou"]["districts"]}
    for firm in firms:
        assert uscc.check(firm.uscc).is_valid, firm.uscc
        assert firm.uscc.startswith("91")
        assert uscc.region_code(firm.uscc) in wuzhou
        assert uscc.region_code(firm.uscc) == firm.district.code
    names = [f.name for f in firms]
    assert len(set(names)) == 60
    assert all(n.endswith("有限公司") for n in names)
    assert all(n.startswith(("梧州", "广西", "苍梧县", "藤县", "蒙山县", "岑溪市")) for n in names)


def test_every_firm_has_consecutive_years_ending_last_year(app):
    generate(firms=60)
    rows = years_by_firm()
    firms = db.session.scalars(select(Firm)).all()
    for firm in firms:
        years = [r.year for r in rows[firm.id]]
        assert years == list(range(years[0], LAST_YEAR + 1)), firm.name
        if firm.established_on.year <= LAST_YEAR - 2:
            assert len(years) in (3, 4), firm.name
        else:
            # A younger firm has figures from the year it was founded.
            assert years[0] == firm.established_on.year
    assert any(f.established_on > date(TODAY.year - 1, TODAY.month, TODAY.day) for f in firms)
    assert min(f.established_on for f in firms).year >= 1998


def test_yearly_figures_are_consistent(app):
    generate(firms=120)
    rows = db.session.scalars(select(FirmYear)).all()
    solvent = 0
    for r in rows:
        assert r.sales_revenue <= r.total_revenue
        assert r.hightech_revenue <= r.total_revenue
        assert r.domestic_rd_expense <= r.rd_expense
        assert r.tech_staff <= r.total_staff
        assert r.sales_revenue > 0 and r.total_staff > 0
        for amount in (r.total_revenue, r.sales_revenue, r.rd_expense, r.total_assets):
            assert amount == amount.quantize(Decimal("0.01"))
        solvent += r.total_assets > r.total_liabilities
    assert solvent >= 0.9 * len(rows)


def test_firms_spread_from_clearly_eligible_to_just_short_to_far(app):
    generate(firms=80)
    meets = Counter()
    short = Counter()
    far = Counter()
    for years in years_by_firm().values():
        latest = years[-1]
        window = years[-3:]
        intensity = sum(r.rd_expense for r in window) / sum(r.sales_revenue for r in window)
        ratio = intensity / rd_threshold(latest.sales_revenue)
        staff = Decimal(latest.tech_staff) / latest.total_staff
        hightech = latest.hightech_revenue / latest.total_revenue
        for key, value, threshold in (
            ("rd", ratio, Decimal(1)),
            ("staff", staff, Decimal("0.10")),
            ("hightech", hightech, Decimal("0.60")),
        ):
            if value >= threshold:
                meets[key] += 1
            elif value >= threshold * Decimal("0.8"):
                short[key] += 1
            else:
                far[key] += 1
    for key in ("rd", "staff", "hightech"):
        assert meets[key] >= 10, key
        assert short[key] >= 2, key
        assert far[key] >= 10, key

    class_i = {
        item.firm_id
        for item in db.session.scalars(select(IPItem))
        if item.ip_class == "I" and item.status == "valid"
    }
    assert 10 <= len(class_i) < 80


def test_firms_have_contacts_ip_tiers_parks_and_incubators(app):
    generate(firms=150)
    firms = db.session.scalars(select(Firm)).all()
    contacts = Counter(c.firm_id for c in db.session.scalars(select(FirmContact)))
    assert all(1 <= contacts[f.id] <= 3 for f in firms)
    for contact in db.session.scalars(select(FirmContact)):
        assert contact.role in rules.CONTACT_ROLES
        assert re.fullmatch(r"1[3-9]\d{9}", contact.phone)
        assert "@" in contact.email
    items = db.session.scalars(select(IPItem)).all()
    assert {i.kind for i in items} == {"invention", "utility_model", "software", "design"}
    for item in items:
        if item.kind == "software":
            assert re.fullmatch(r"20\d\dSR\d{7}", item.number)
        elif item.status == "pending":
            assert re.fullmatch(r"20\d\d[123]\d{7}\.[\dX]", item.number) and not item.granted_on
        else:
            assert re.fullmatch(r"ZL20\d\d[123]\d{7}\.[\dX]", item.number) and item.granted_on
    assert len({i.number for i in items}) == len(items)
    tiers = db.session.scalars(select(Qualification)).all()
    assert not any(q.tier == "hte" for q in tiers)
    hte = db.session.scalars(select(Certificate)).all()
    assert any(c.issued_on.year in (2022, 2023, 2024) for c in hte)
    assert all(re.fullmatch(r"GR20\d\d45\d{6}", c.number) for c in hte)
    assert sum(q.tier == "tech_sme" and q.year == TODAY.year for q in tiers) >= 30
    assert {"srdi", "gazelle", "innovative"} & {q.tier for q in tiers}
    above = sum(f.is_above_scale for f in firms)
    assert 0.05 * len(firms) <= above <= 0.2 * len(firms)
    incubators = [f for f in firms if f.is_incubator]
    assert len(incubators) in (2, 3)
    assert any(f.incubator_id in {i.id for i in incubators} for f in firms)
    assert any(f.park_id is not None for f in firms)
    assert db.session.scalar(select(func.count(FirmFormerName.id))) >= 3
    for firm in firms:
        assert firm.industry is not None and firm.tech_field is not None
        assert firm.legal_representative and 2 <= len(firm.legal_representative) <= 3
        assert firm.address.startswith("梧州市" + firm.district.name)
        assert firm.registered_capital > 0


def test_firms_are_spread_over_both_programmes_with_a_ledger_that_follows_them(app):
    summary = generate(firms=200)
    rows = db.session.execute(
        select(Programme.code, Stage.code, func.count(Enrollment.id))
        .join(Stage, Enrollment.stage_id == Stage.id)
        .join(Programme, Stage.programme_id == Programme.id)
        .group_by(Programme.code, Stage.code)
    ).all()
    stages = {(programme, stage): count for programme, stage, count in rows}
    assert {"prospect", "reserve", "coaching", "certified"} <= {s for p, s in stages if p == "hte"}
    listing = {
        stage: count for (programme, stage), count in stages.items() if programme == "listing"
    }
    assert sum(listing.values()) >= 8
    assert len(listing) >= 4 and {"neeq", "regional"} & set(listing)
    both = db.session.scalar(
        select(func.count()).select_from(
            select(Enrollment.firm_id)
            .group_by(Enrollment.firm_id)
            .having(func.count(func.distinct(Enrollment.programme_id)) == 2)
            .subquery()
        )
    )
    assert both >= 1
    entries = db.session.scalars(select(SupportEntry)).all()
    assert summary.support_entries == len(entries)
    assert {"hte_award", "listing_subsidy", "rd_subsidy"} <= {e.kind for e in entries}
    transitions = {t.id for t in db.session.scalars(select(StageTransition))}
    for entry in entries:
        if entry.rule_id is not None:
            assert int(entry.trigger_key.removeprefix("transition:")) in transitions


def test_certified_firms_owe_their_reports_most_filed_some_missed(app):
    summary = generate(firms=120)
    reports = list(db.session.scalars(select(Duty)))
    assert summary.duties == len(reports) > 0
    certified = set(db.session.scalars(select(Certificate.firm_id)))
    assert {d.year for d in reports} <= {2023, 2024, 2025}
    statuses = Counter(d.status(TODAY) for d in reports)
    # On 15 March 2026 the 2025 reports are still due; the earlier ones mostly filed on time.
    assert statuses["due"] == sum(1 for d in reports if d.year == 2025)
    assert statuses["filed"] > 4 * (statuses["overdue"] + statuses["late"]) > 0
    for year in (2023, 2024, 2025):
        owing = {d.firm_id for d in reports if d.year == year}
        assert owing == firms_certified_on(certified, date(year, 12, 31))


def test_two_firms_have_requests_waiting_in_their_managers_queue(app):
    summary = generate(firms=40)
    requests = db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id)).all()
    assert summary.portal_requests == len(requests) == 4
    assert {r.status for r in requests} == {"pending"}
    assert [r.kind for r in requests] == ["year", "ip", "year", "ip"]
    for request in requests:
        assert request.submitted_by.firm_id == request.firm_id
        assert request.items and request.firm.manager_id is not None


def test_same_seed_gives_the_same_firms(app):
    generator.generate_demo("wuzhou", 30, 11, TODAY)
    first = [(f.name, f.uscc) for f in db.session.scalars(select(Firm).order_by(Firm.id))]
    db.session.rollback()
    generator.generate_demo("wuzhou", 30, 11, TODAY)
    again = [(f.name, f.uscc) for f in db.session.scalars(select(Firm).order_by(Firm.id))]
    assert first == again


def test_managers_cover_the_districts_and_firms_are_theirs(app):
    generate(firms=60)
    managers = db.session.scalars(select(User).where(User.role == "manager")).all()
    covered = [d.code for m in managers for d in m.districts]
    assert sorted(covered) == sorted(code for code, *_ in CITIES["wuzhou"]["districts"])
    assert all(m.username.startswith("manager") for m in managers)
    for firm in db.session.scalars(select(Firm)):
        assert firm.district_id in firm.manager.district_ids
    roles = Counter(u.role for u in db.session.scalars(select(User)))
    assert roles["admin"] == 1 and roles["bureau_head"] == 1 and roles["enterprise"] == 5
    firm1 = db.session.scalar(select(User).filter_by(username="firm1"))
    assert firm1.firm_id is not None


def test_creations_are_audited_as_cli(app):
    seeded = db.session.scalar(select(func.max(AuditEntry.id))) or 0  # the fixture's reference data
    generate(firms=10)
    sources = set(
        db.session.scalars(select(AuditEntry.source).where(AuditEntry.id > seeded).distinct())
    )
    assert sources == {"cli"}
    firm = db.session.scalars(select(Firm)).first()
    assert db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.entity == "firms", AuditEntry.entity_id == firm.id
        )
    )


def test_command_loads_once_and_prints_the_logins_each_time(app, runner, instance):
    first = runner.invoke(args=["crm", "demo", "--firms", "20"])
    assert first.exit_code == 0, first.output
    counts = {
        model: db.session.scalar(select(func.count()).select_from(model))
        for model in (Firm, User, FirmYear, IPItem, Qualification, FirmContact)
    }
    assert counts[Firm] == 20

    second = runner.invoke(args=["crm", "demo", "--firms", "20"])
    assert second.exit_code == 0, second.output
    assert "未重复生成" in second.output
    for model, count in counts.items():
        assert db.session.scalar(select(func.count()).select_from(model)) == count

    logins = printed_logins(first.output)
    assert list(logins) == ["admin", "head", "manager1", "firm1"]
    assert printed_logins(second.output) == logins
    path = instance / LOGINS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {x.username: x.password for x in read_logins(path)}["admin"] == logins["admin"]


def test_command_makes_todays_reminders_once(app, runner, instance):
    result = runner.invoke(args=["crm", "demo", "--firms", "60"])
    assert result.exit_code == 0, result.output
    made = db.session.scalar(select(func.count(Reminder.id)))
    assert made > 0
    assert re.search(rf"今日提醒 {made} 条", result.output)
    managers = db.session.scalars(
        select(Reminder.recipient_id).where(Reminder.recipient_kind == "user")
    ).all()
    assert managers, "the demo's account managers have work today"
    # The enterprise login the command prints has its firm's reminders to show.
    first = db.session.scalar(select(User).filter_by(username="firm1"))
    firm_reminders = select(Reminder.recipient_id).where(Reminder.recipient_kind == "firm")
    assert first.firm_id in set(db.session.scalars(firm_reminders))
    firms = db.session.scalars(select(User.firm_id).where(User.role == "enterprise")).all()
    assert len(set(firms)) == len(firms) == 5, "each demo login keeps a firm of its own"
    # The worker's scan the same day finds nothing left to make.
    assert sum(item.created for item in scan(clock.today())) == 0


def test_printed_passwords_log_in(app, runner, client, instance):
    result = runner.invoke(args=["crm", "demo", "--firms", "10"])
    for username, password in printed_logins(result.output).items():
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, username
        client.post("/logout")


def test_every_generated_demo_password_passes_the_password_rule(app):
    logins = generate(firms=5).logins
    users = db.session.scalars(select(User)).all()
    assert {x.username for x in logins} == {u.username for u in users}
    names = {u.username: u.name for u in users}
    for login in logins:
        name = names[login.username]
        assert password_problem(login.password, username=login.username, name=name) is None


def test_missing_logins_file_resets_the_demo_passwords(app, runner, instance):
    first = printed_logins(runner.invoke(args=["crm", "demo", "--firms", "10"]).output)
    (instance / LOGINS_FILE).unlink()

    second = printed_logins(runner.invoke(args=["crm", "demo", "--firms", "10"]).output)

    assert list(second) == list(first)
    db.session.expire_all()
    for username, password in second.items():
        assert password != first[username]
        assert db.session.scalar(select(User).filter_by(username=username)).check_password(password)
    assert (instance / LOGINS_FILE).exists()
    assert db.session.scalar(select(func.count(Firm.id))) == 10


def test_existing_real_firms_block_the_demo_without_inventing_logins(app, runner, instance):
    from tests import factories

    factories.make_firm()
    db.session.commit()
    result = runner.invoke(args=["crm", "demo", "--firms", "10"])
    assert result.exit_code == 0
    assert "未找到演示账号" in result.output
    assert db.session.scalar(select(func.count(Firm.id))) == 1
    assert not (instance / LOGINS_FILE).exists()


def test_a_real_admin_called_admin_keeps_their_password(app, runner, instance):
    from tests import factories

    factories.make_user("admin", username="admin", email="it@wzkjj.gov.cn")
    db.session.commit()
    result = runner.invoke(args=["crm", "demo", "--firms", "10"])
    assert result.exit_code == 0
    assert "未找到演示账号" in result.output
    db.session.expire_all()
    admin = db.session.scalar(select(User).filter_by(username="admin"))
    assert admin.check_password(factories.PASSWORD)


def test_demo_works_for_baise(app, database_url, tmp_path):
    baise = make_app(database_url, CITY="baise")
    baise.instance_path = str(tmp_path)
    with baise.app_context():
        result = baise.test_cli_runner().invoke(args=["crm", "demo", "--firms", "20"])
        assert result.exit_code == 0, result.output
        assert "百色市" in result.output
        codes = {code for code, *_ in CITIES["baise"]["districts"]}
        assert codes <= set(db.session.scalars(select(District.code)))
        firms = db.session.scalars(select(Firm)).all()
        assert len(firms) == 20
        assert {uscc.region_code(f.uscc) for f in firms} <= codes
        managers = db.session.scalars(select(User).where(User.role == "manager")).all()
        assert sorted(d.code for m in managers for d in m.districts) == sorted(codes)
        db.session.remove()
        db.engine.dispose()


def test_unique_draws_give_up_once_the_range_is_used_up():
    draws = helpers.UniqueDraws(max_failures=50)
    assert draws.draw(lambda: "GR202445000001") == "GR202445000001"
    with pytest.raises(helpers.DrawsExhausted, match="连续 50 次抽到已使用的编号"):
        draws.draw(lambda: "GR202445000001")


def _certificate(serials: int, numbers: helpers.UniqueDraws) -> str | None:
    """Draw the qualifications of strong firms until one holds a certificate; return its number."""
    spec = {
        "profile": "strong",
        "district": District(code="450403"),
        "established": date(2010, 1, 1),
        "figures": [],
        "ip": [],
        "above_scale": False,
    }
    for seed in range(50):
        rng = random.Random(seed)
        quals = figures.make_qualifications(rng, Firm(), spec, TODAY, "梧州市", numbers, serials)
        hte = [q for q in quals if q.tier == "hte"]
        if hte:
            return hte[-1].number
    return None


def test_certificate_numbers_widen_past_a_years_four_thousand():
    # Every year's first 3,999 serials are taken, as in a demo of 100,000 firms.
    taken = {f"GR{y}45{n:06d}" for y in range(2018, 2027) for n in range(1, 4000)}
    with pytest.raises(helpers.DrawsExhausted):
        _certificate(figures.CERTIFICATE_SERIALS, helpers.UniqueDraws(taken, max_failures=200))
    number = _certificate(999_999, helpers.UniqueDraws(taken))
    assert re.fullmatch(r"GR20\d\d45\d{6}", number) and int(number[-6:]) > 3999


def test_checkpoints_keep_no_more_than_a_chunk_of_firms_in_memory(app, monkeypatch):
    monkeypatch.setattr(generator, "CHUNK", 20)
    in_session = []

    def checkpoint(summary):
        db.session.commit()
        alive = sum(isinstance(o, Firm) for o in gc.get_objects())
        in_session.append((summary.firms, alive))

    with audit_source("cli"):
        summary = generator.generate_demo("wuzhou", 50, 7, TODAY, checkpoint=checkpoint)
        db.session.commit()
    assert summary.firms == 50 == db.session.scalar(select(func.count(Firm.id)))
    assert [firms for firms, _ in in_session][:4] == [2, 22, 42, 50]
    assert max(alive for _, alive in in_session) <= 20


def test_command_tops_up_the_activities_in_bulk_and_audits_them(app, runner, instance):
    result = runner.invoke(args=["crm", "demo", "--firms", "20", "--activities", "300"])
    assert result.exit_code == 0, result.output
    assert "走访记录 300 条" in result.output
    assert db.session.scalar(select(func.count(Activity.id))) == 300
    per_firm = Counter(db.session.scalars(select(Activity.firm_id)))
    assert len(per_firm) == 20 and min(per_firm.values()) >= 10
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "activities", AuditEntry.action == "create")
    ).all()
    assert len(entries) == 300 and {e.source for e in entries} == {"cli"}
    logged = {e.entity_id: e for e in entries}
    activity = db.session.scalars(select(Activity).where(Activity.notes == "电话了解企业经营情况"))
    activity = activity.first()
    assert logged[activity.id].firm_id == activity.firm_id
    assert f'"occurred_on":"{activity.occurred_on.isoformat()}"' in logged[activity.id].new_value


def test_command_takes_a_hundred_thousand_firms_and_no_more(app, runner, instance):
    result = runner.invoke(args=["crm", "demo", "--firms", "100001"])
    assert result.exit_code == 2
    assert "100000" in result.output
    assert db.session.scalar(select(func.count(Firm.id))) == 0
