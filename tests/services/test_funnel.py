"""Funnel queries on a small known history built with the pipeline services, on a real database.

Seven firms move through the high-tech programme between 2023 and 2026 (today is 2026-06-15):

- f1 (万秀区, 高新区, field F1, manager A): reserve 2024-03-01, applied 06-01, review 10-01,
  certified 12-01 (certificate issued 2024-11-20, expires 2027-11-19).
- f2 (万秀区, field F2, manager A): reserve 2024-04-01, applied 2025-06-10, review 09-01,
  not certified 11-01, back to reserve 12-01.
- f3 (长洲区, 高新区, field F1, manager B): prospect 2025-02-01, reserve 03-01; listing pool 04-01.
- f4 (长洲区, field F1, no manager): reserve 2024-05-01, moved away 2025-01-15; prospect again
  2026-03-01 in a new enrollment.
- f5 (万秀区, field F1, manager A): like f6, then soft-deleted: it never counts.
- f6 (长洲区, field F2, manager B): reserve 2023-03-01, applied 06-01, review 10-01, certified 12-01
  (certificate issued 2023-11-20, expires 2026-11-19).
- f7 (万秀区, no field, manager A): prospect 2025-05-01, closed 2025-08-01.
"""

from datetime import date, datetime

import pytest
from sqlalchemy import delete, event, select

from crm.certification.models import CertificationApplication, CertificationBatch
from crm.core import clock
from crm.dashboard import funnel
from crm.extensions import db
from crm.firms.models import Firm
from crm.firms.services import delete_firm, restore_firm
from crm.pipeline import queries, summary
from crm.pipeline.models import FunnelPosition, FunnelStay, Stage
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from crm.reference.models import Park, TechField
from tests import factories

TODAY = date(2026, 6, 15)
RESERVE = MoveInputs(entry_reason=4)
NOTHING = MoveInputs()


def on(day: date):
    """Freeze the clock at 10:00 Beijing time on `day`."""
    return clock.frozen(datetime(day.year, day.month, day.day, 2, 0))


def certified(number: str, issued_on: date) -> MoveInputs:
    return MoveInputs(certificate_number=number, certificate_issued_on=issued_on)


@pytest.fixture
def world(app):
    """Build the history of the module docstring and return its firms, groups and managers."""
    with on(date(2023, 1, 2)):
        home, away = factories.district("450403"), factories.district("450405")
        park = db.session.scalars(select(Park)).first()
        f1_field, f2_field = db.session.scalars(
            select(TechField).order_by(TechField.sort_order).limit(2)
        ).all()
        manager_a = factories.make_user("manager", districts=[home], name="经理A")
        manager_b = factories.make_user("manager", districts=[away], name="经理B")
        layout = {
            "f1": (home, park, f1_field, manager_a),
            "f2": (home, None, f2_field, manager_a),
            "f3": (away, park, f1_field, manager_b),
            "f4": (away, None, f1_field, None),
            "f5": (home, None, f1_field, manager_a),
            "f6": (away, None, f2_field, manager_b),
            "f7": (home, None, None, manager_a),
        }
        firms = {}
        for key, (district, firm_park, field, manager) in layout.items():
            firms[key] = factories.make_firm(
                district=district, park=firm_park, tech_field=field, manager=manager
            )
            for year in range(2019, 2026):
                factories.make_year(firms[key], year)
        batches = {}
        for year in (2023, 2024, 2025):
            batches[year] = CertificationBatch(
                year=year, name="第一批", opens_on=date(year, 5, 1), closes_on=date(year, 7, 31)
            )
            db.session.add(batches[year])
        db.session.commit()

    enrollments = {}

    def enroll(key, programme, stage, inputs=NOTHING):
        result = enroll_firm(firms[key], programme, stage, inputs, manager_a)
        enrollments[(key, programme)] = result.enrollment

    def move(key, target, inputs=NOTHING):
        move_firm(enrollments[(key, "hte")], target, inputs, manager_a)

    def apply(key, year):
        move(key, "applied", MoveInputs(batch_id=batches[year].id))

    steps = [
        (date(2023, 3, 1), lambda: [enroll(k, "hte", "reserve", RESERVE) for k in ("f5", "f6")]),
        (date(2023, 6, 1), lambda: [apply(k, 2023) for k in ("f5", "f6")]),
        (date(2023, 10, 1), lambda: [move(k, "review") for k in ("f5", "f6")]),
        (
            date(2023, 12, 1),
            lambda: [
                move("f5", "certified", certified("GR202345000005", date(2023, 11, 20))),
                move("f6", "certified", certified("GR202345000006", date(2023, 11, 20))),
            ],
        ),
        (date(2024, 3, 1), lambda: enroll("f1", "hte", "reserve", RESERVE)),
        (date(2024, 4, 1), lambda: enroll("f2", "hte", "reserve", RESERVE)),
        (date(2024, 5, 1), lambda: enroll("f4", "hte", "reserve", RESERVE)),
        (date(2024, 6, 1), lambda: apply("f1", 2024)),
        (date(2024, 10, 1), lambda: move("f1", "review")),
        (
            date(2024, 12, 1),
            lambda: move("f1", "certified", certified("GR202445000001", date(2024, 11, 20))),
        ),
        (date(2025, 1, 15), lambda: move("f4", "moved", MoveInputs(reason="迁往南宁"))),
        (date(2025, 2, 1), lambda: enroll("f3", "hte", "prospect")),
        (date(2025, 3, 1), lambda: move("f3", "reserve", RESERVE)),
        (date(2025, 4, 1), lambda: enroll("f3", "listing", "pool")),
        (date(2025, 5, 1), lambda: enroll("f7", "hte", "prospect")),
        (date(2025, 6, 10), lambda: apply("f2", 2025)),
        (date(2025, 8, 1), lambda: move("f7", "closed", MoveInputs(reason="企业注销"))),
        (date(2025, 9, 1), lambda: move("f2", "review")),
        (date(2025, 11, 1), lambda: move("f2", "not_certified", MoveInputs(reason="评审未通过"))),
        (date(2025, 12, 1), lambda: move("f2", "reserve", MoveInputs(entry_reason=2))),
        (date(2026, 3, 1), lambda: enroll("f4", "hte", "prospect")),
        (TODAY, lambda: delete_firm(firms["f5"])),
    ]
    for day, step in steps:
        with on(day):
            step()
            db.session.commit()
    # A certificate that lapsed does not count as expiring.
    db.session.add(
        CertificationApplication(
            firm_id=firms["f3"].id,
            batch_id=batches[2023].id,
            submitted_on=date(2023, 6, 1),
            status="lapsed",
            issued_on=date(2023, 3, 2),
            expires_on=date(2026, 3, 1),
        )
    )
    db.session.commit()
    with on(TODAY):
        yield {
            "firms": firms,
            "home": home.name,
            "away": away.name,
            "park": park.name,
            "f1_field": f1_field.name,
            "f2_field": f2_field.name,
            "manager_a": manager_a,
            "manager_b": manager_b,
        }


def counts(rows) -> dict:
    return {row.stage: row.firms for row in rows}


def grouped(rows, value) -> list[tuple]:
    return [(row.stage, row.group, value(row)) for row in rows]


# --- Firms per stage -----------------------------------------------------------------------------


def test_firms_per_stage_lists_every_stage_in_board_order(world):
    rows = funnel.firms_per_stage("hte")
    assert [row.stage for row in rows] == [
        "prospect",
        "reserve",
        "coaching",
        "applied",
        "review",
        "certified",
        "not_certified",
        "lapsed",
        "cancelled",
        "moved",
        "closed",
    ]
    assert rows[1].stage_name == "高企后备库"
    assert {k: v for k, v in counts(rows).items() if v} == {
        "prospect": 1,  # f4 back after moving away: its open enrollment counts, not the old one
        "reserve": 2,
        "certified": 2,  # not the deleted f5
        "closed": 1,  # f7's enrollment ended there
    }
    assert all(row.group is None and row.group_id is None for row in rows)


def test_firms_per_stage_keeps_the_programmes_apart(world):
    rows = funnel.firms_per_stage("listing")
    assert {k: v for k, v in counts(rows).items() if v} == {"pool": 1}


def test_firms_per_stage_by_district(world):
    home, away = world["home"], world["away"]
    assert grouped(funnel.firms_per_stage("hte", by="district"), lambda r: r.firms) == [
        ("prospect", away, 1),
        ("reserve", home, 1),
        ("reserve", away, 1),
        ("certified", home, 1),
        ("certified", away, 1),
        ("closed", home, 1),
    ]


def test_firms_per_stage_by_park_puts_the_firms_outside_parks_last(world):
    park, none = world["park"], funnel.BREAKDOWNS["park"]
    rows = funnel.firms_per_stage("hte", by="park")
    assert grouped(rows, lambda r: r.firms) == [
        ("prospect", none, 1),
        ("reserve", park, 1),
        ("reserve", none, 1),
        ("certified", park, 1),
        ("certified", none, 1),
        ("closed", none, 1),
    ]
    assert rows[0].group_id is None and rows[1].group_id is not None


def test_firms_per_stage_by_field(world):
    f1, f2, none = world["f1_field"], world["f2_field"], "未填写技术领域"
    assert grouped(funnel.firms_per_stage("hte", by="field"), lambda r: r.firms) == [
        ("prospect", f1, 1),
        ("reserve", f1, 1),
        ("reserve", f2, 1),
        ("certified", f1, 1),
        ("certified", f2, 1),
        ("closed", none, 1),
    ]


def test_firms_per_stage_by_manager(world):
    assert grouped(funnel.firms_per_stage("hte", by="manager"), lambda r: r.firms) == [
        ("prospect", "未指定服务专员", 1),
        ("reserve", "经理A", 1),
        ("reserve", "经理B", 1),
        ("certified", "经理A", 1),
        ("certified", "经理B", 1),
        ("closed", "经理A", 1),
    ]
    row = funnel.firms_per_stage("hte", by="manager")[1]
    assert row.group_id == world["manager_a"].id


def test_a_managers_scope_counts_only_their_firms(world):
    rows = funnel.firms_per_stage("hte", scope=world["manager_a"])
    assert {k: v for k, v in counts(rows).items() if v} == {
        "reserve": 1,
        "certified": 1,
        "closed": 1,
    }
    # Manager B covers 长洲区, where f4 is, though f4 has no manager.
    rows = funnel.firms_per_stage("hte", scope=world["manager_b"])
    assert {k: v for k, v in counts(rows).items() if v} == {
        "prospect": 1,
        "reserve": 1,
        "certified": 1,
    }


def test_a_scope_may_be_any_condition_on_firms(world):
    rows = funnel.firms_per_stage("hte", scope=Firm.park_id.is_not(None))
    assert {k: v for k, v in counts(rows).items() if v} == {"reserve": 1, "certified": 1}


def test_a_scope_may_combine_a_user_with_conditions(world):
    rows = funnel.firms_per_stage("hte", scope=[world["manager_b"], Firm.park_id.is_not(None)])
    assert {k: v for k, v in counts(rows).items() if v} == {"reserve": 1}
    rows = funnel.firms_per_stage("hte", scope=(world["manager_a"], Firm.park_id.is_not(None)))
    assert {k: v for k, v in counts(rows).items() if v} == {"certified": 1}


def test_an_unknown_breakdown_is_an_error(world):
    with pytest.raises(ValueError):
        funnel.firms_per_stage("hte", by="colour")


# --- Conversion ----------------------------------------------------------------------------------


def cohorts(rows) -> list[tuple]:
    return [(row.cohort, row.group, row.entered, row.converted) for row in rows]


def test_conversion_counts_each_enrollment_in_the_year_it_first_entered(world):
    rows = funnel.conversion("hte", "reserve", "applied")
    # f2 entered the reserve pool twice: only its first entry (2024) makes a cohort.
    assert cohorts(rows) == [(2023, None, 1, 1), (2024, None, 3, 2), (2025, None, 1, 0)]
    assert [row.rate for row in rows] == [1.0, pytest.approx(2 / 3), 0.0]


def test_conversion_counts_only_a_later_move(world):
    # f6 applied before it was certified, never after.
    rows = funnel.conversion("hte", "certified", "applied")
    assert cohorts(rows) == [(2023, None, 1, 0), (2024, None, 1, 0)]
    rows = funnel.conversion("hte", "applied", "certified")
    assert cohorts(rows) == [(2023, None, 1, 1), (2024, None, 1, 1), (2025, None, 1, 0)]


def test_conversion_by_district_and_manager(world):
    home, away = world["home"], world["away"]
    assert cohorts(funnel.conversion("hte", "reserve", "applied", by="district")) == [
        (2023, away, 1, 1),
        (2024, home, 2, 2),
        (2024, away, 1, 0),
        (2025, away, 1, 0),
    ]
    assert cohorts(funnel.conversion("hte", "reserve", "applied", by="manager")) == [
        (2023, "经理B", 1, 1),
        (2024, "经理A", 2, 2),
        (2024, "未指定服务专员", 1, 0),
        (2025, "经理B", 1, 0),
    ]


def test_conversion_by_park_and_field(world):
    park, f1, f2 = world["park"], world["f1_field"], world["f2_field"]
    assert cohorts(funnel.conversion("hte", "reserve", "applied", by="park")) == [
        (2023, "不在园区", 1, 1),
        (2024, park, 1, 1),
        (2024, "不在园区", 2, 1),
        (2025, park, 1, 0),
    ]
    assert cohorts(funnel.conversion("hte", "reserve", "applied", by="field")) == [
        (2023, f2, 1, 1),
        (2024, f1, 2, 1),
        (2024, f2, 1, 1),
        (2025, f1, 1, 0),
    ]


def test_conversion_within_a_scope(world):
    rows = funnel.conversion("hte", "reserve", "applied", scope=world["manager_a"])
    assert cohorts(rows) == [(2024, None, 2, 2)]


def test_conversion_refuses_an_unknown_stage(world):
    with pytest.raises(ValueError):
        funnel.conversion("hte", "reserve", "listed")


def test_an_empty_cohort_has_no_rate():
    assert funnel.Conversion(2026, 0, 0).rate is None


# --- Median days in stage ------------------------------------------------------------------------


def medians(rows) -> dict:
    return {row.stage: (row.median_days, row.stays) for row in rows}


def test_median_days_counts_completed_and_current_stays(world):
    rows = funnel.median_days_in_stage("hte", today=TODAY)
    assert medians(rows) == {
        "prospect": (92.0, 3),  # f3 28, f7 92, f4 106 (still there)
        "reserve": (227.5, 6),  # 92, 92, 196, 259, 435, 471
        "applied": (122.0, 3),  # 83, 122, 122
        "review": (61.0, 3),
        "certified": (744.0, 2),  # f1 561 and f6 927 days so far
        "not_certified": (30.0, 1),
    }
    assert [row.stage for row in rows] == list(medians(rows))  # board order
    assert rows[0].stage_name == "意向企业"


def test_median_days_of_completed_stays_only(world):
    rows = funnel.median_days_in_stage("hte", today=TODAY, include_current=False)
    assert medians(rows) == {
        "prospect": (60.0, 2),  # 28 and 92: a closed enrollment's last stage is no stay
        "reserve": (175.5, 4),  # 92, 92, 259, 435
        "applied": (122.0, 3),
        "review": (61.0, 3),
        "not_certified": (30.0, 1),
    }


def test_median_days_uses_the_clock_by_default(world):
    with on(date(2026, 6, 25)):
        rows = funnel.median_days_in_stage("hte")
    assert medians(rows)["certified"] == (754.0, 2)


def test_median_days_by_district(world):
    rows = funnel.median_days_in_stage("hte", by="district", today=TODAY)
    reserve = [(row.group, row.median_days, row.stays) for row in rows if row.stage == "reserve"]
    assert reserve == [(world["home"], 196.0, 3), (world["away"], 259.0, 3)]
    prospect = [(row.group, row.median_days) for row in rows if row.stage == "prospect"]
    assert prospect == [(world["home"], 92.0), (world["away"], 67.0)]


def test_median_days_by_manager_within_a_scope(world):
    rows = funnel.median_days_in_stage("hte", by="manager", scope=world["manager_b"], today=TODAY)
    assert [(row.stage, row.group, row.median_days) for row in rows] == [
        ("prospect", "经理B", 28.0),
        ("prospect", "未指定服务专员", 106.0),  # f4, in manager B's district
        ("reserve", "经理B", 281.5),  # f6 92, f3 471
        ("reserve", "未指定服务专员", 259.0),
        ("applied", "经理B", 122.0),
        ("review", "经理B", 61.0),
        ("certified", "经理B", 927.0),
    ]


# --- Certificates expiring -----------------------------------------------------------------------


def test_certificates_expiring_per_year(world):
    rows = funnel.certificates_expiring([2027, 2026, 2028])
    # f6 (2026-11-19) and f1 (2027-11-19); not the deleted f5, not f3's lapsed certificate.
    assert [(row.year, row.certificates) for row in rows] == [(2026, 1), (2027, 1), (2028, 0)]
    assert funnel.certificates_expiring([]) == []


def test_certificates_expiring_by_each_breakdown(world):
    def table(by):
        rows = funnel.certificates_expiring([2026, 2027], by=by)
        return [(row.year, row.group, row.certificates) for row in rows]

    assert table("district") == [(2026, world["away"], 1), (2027, world["home"], 1)]
    assert table("park") == [(2026, "不在园区", 1), (2027, world["park"], 1)]
    assert table("field") == [(2026, world["f2_field"], 1), (2027, world["f1_field"], 1)]
    assert table("manager") == [(2026, "经理B", 1), (2027, "经理A", 1)]


def test_certificates_expiring_within_a_scope(world):
    rows = funnel.certificates_expiring([2026, 2027], scope=world["manager_a"])
    assert [(row.year, row.certificates) for row in rows] == [(2026, 0), (2027, 1)]


# --- Cost ----------------------------------------------------------------------------------------


class StatementCounter:
    """Count the SQL statements sent to the database inside a `with` block."""

    def __enter__(self):
        self.count = 0
        event.listen(db.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kwargs):
        self.count += 1


def statements_per_query(user) -> list[int]:
    calls = [
        lambda: funnel.firms_per_stage("hte", by="district", scope=user),
        lambda: funnel.conversion("hte", "reserve", "applied", by="manager", scope=user),
        lambda: funnel.median_days_in_stage("hte", by="field", scope=user, today=TODAY),
        lambda: funnel.certificates_expiring([2026, 2027], by="park", scope=user),
        lambda: funnel.firms_per_stage("hte"),
    ]
    used = []
    for call in calls:
        with StatementCounter() as counter:
            call()
        used.append(counter.count)
    return used


def test_each_query_is_one_statement_however_many_firms(world):
    user = world["manager_a"]
    db.session.refresh(user)  # loaded, so the scope itself costs nothing
    small = statements_per_query(user)
    assert small == [1, 1, 1, 1, 1]
    home = factories.district("450403")
    with on(date(2026, 5, 1)):
        for _ in range(12):
            firm = factories.make_firm(district=home, manager=user)
            enroll_firm(firm, "hte", "reserve", RESERVE, user)
        db.session.commit()
    db.session.refresh(user)
    assert statements_per_query(user) == small
    rows = funnel.firms_per_stage("hte", scope=user)
    assert counts(rows)["reserve"] == 13


def test_stage_codes_match_the_seeded_stages(world):
    seeded = queries.stage_ids("hte")
    assert {row.stage for row in funnel.firms_per_stage("hte")} == set(seeded)


# --- The summary the queries read ----------------------------------------------------------------


def summary_rows() -> tuple[set, ...]:
    """Return the rows of every summary and count table, as tuples of every column."""
    tables = (*summary.TABLES, *(counts.model for counts in summary.COUNTS))
    return tuple(
        {tuple(row) for row in db.session.execute(select(table.__table__))} for table in tables
    )


def assert_summary_is_rebuilt_alike() -> None:
    kept = summary_rows()
    summary.rebuild(db.session.connection())
    assert summary_rows() == kept


def stays_of(firm) -> list[tuple]:
    stage = {s.id: s.code for s in db.session.scalars(select(Stage))}
    rows = db.session.execute(
        select(FunnelStay).where(FunnelStay.firm_id == firm.id).order_by(FunnelStay.transition_id)
    ).scalars()
    return [
        (stage[r.stage_id], r.started_on, r.days, r.is_current, r.first_entry, r.later_mask)
        for r in rows
    ]


def bits(*codes: str) -> int:
    return sum(summary.stage_bit("hte", code) for code in codes)


def test_every_move_keeps_the_summary_as_a_rebuild_makes_it(world):
    assert_summary_is_rebuilt_alike()
    firms = world["firms"]
    # The soft-deleted firm has no rows; the others one position per programme they joined.
    positions = summary_rows()[summary.TABLES.index(FunnelPosition)]
    assert sorted(row[0] for row in positions) == sorted(
        [f.id for key, f in firms.items() if key != "f5"] + [firms["f3"].id]
    )
    assert stays_of(firms["f2"]) == [
        (
            "reserve",
            date(2024, 4, 1),
            435,
            False,
            True,
            bits("applied", "review", "not_certified", "reserve"),
        ),
        ("applied", date(2025, 6, 10), 83, False, True, bits("review", "not_certified", "reserve")),
        ("review", date(2025, 9, 1), 61, False, True, bits("not_certified", "reserve")),
        ("not_certified", date(2025, 11, 1), 30, False, True, bits("reserve")),
        # Back in the pool: the current stay, and not the enrollment's first entry.
        ("reserve", date(2025, 12, 1), None, True, False, 0),
    ]
    # f7's enrollment ended in 关闭: its last row is where it ended, not a stay.
    assert stays_of(firms["f7"])[-1][2:4] == (None, False)


def test_a_firm_moved_to_another_district_counts_there(world):
    f1 = world["firms"]["f1"]
    before = funnel.firms_per_stage("hte", by="district")
    f1.district_id = world["firms"]["f3"].district_id
    db.session.commit()
    after = funnel.firms_per_stage("hte", by="district")
    assert ("certified", world["home"], 1) in grouped(before, lambda r: r.firms)
    assert ("certified", world["home"], 1) not in grouped(after, lambda r: r.firms)
    assert ("certified", world["away"], 2) in grouped(after, lambda r: r.firms)
    assert_summary_is_rebuilt_alike()


def test_a_restored_firm_counts_again(world):
    restore_firm(world["firms"]["f5"])
    db.session.commit()
    assert counts(funnel.firms_per_stage("hte"))["certified"] == 3
    assert_summary_is_rebuilt_alike()


def test_the_rebuild_command_computes_every_live_firm_again(world, runner):
    kept = summary_rows()
    for table in (*summary.TABLES, *(counts.model for counts in summary.COUNTS)):
        db.session.execute(delete(table))
    result = runner.invoke(args=["crm", "rebuild-funnel"])
    assert result.exit_code == 0, result.output
    assert "已重新汇总 6 家企业的培育进程" in result.output
    assert summary_rows() == kept


def test_the_counts_refuse_a_scope_on_a_column_they_do_not_copy(world):
    with pytest.raises(ValueError, match="name"):
        funnel.firms_per_stage("hte", scope=Firm.name == "某公司")
