"""Certification's pure rules: expiry, cohorts, change-report deadlines, numbers, batches."""

from datetime import date

import pytest

from crm.certification import rules
from crm.firms.rules import certificate_expiry, certificate_valid_on, same_certificate


@pytest.mark.parametrize(
    ("issued", "expires"),
    [
        (date(2023, 12, 8), date(2026, 12, 7)),
        (date(2024, 2, 29), date(2027, 2, 28)),
        (date(2024, 3, 1), date(2027, 2, 28)),
        (date(2025, 3, 1), date(2028, 2, 29)),
        (date(2023, 1, 1), date(2025, 12, 31)),
    ],
)
def test_a_certificate_is_valid_three_years_less_a_day(issued, expires):
    assert certificate_expiry(issued) == expires


def test_the_cohort_is_named_by_issue_and_expiry_year():
    assert rules.cohort_label(date(2023, 12, 8), date(2026, 12, 7)) == "2023 年认定、2026 年到期"
    # A certificate issued on 1 January expires in the second year after, not the third.
    assert rules.cohort_label(date(2023, 1, 1), date(2025, 12, 31)) == "2023 年认定、2025 年到期"


@pytest.mark.parametrize(
    ("changed", "due"),
    [
        (date(2026, 3, 15), date(2026, 6, 15)),
        (date(2026, 11, 30), date(2027, 2, 28)),
        (date(2027, 11, 30), date(2028, 2, 29)),
        (date(2026, 5, 31), date(2026, 8, 31)),
        (date(2026, 3, 31), date(2026, 6, 30)),
        (date(2026, 10, 1), date(2027, 1, 1)),
        (date(2026, 12, 31), date(2027, 3, 31)),
    ],
)
def test_a_change_is_due_three_months_later_clamped_to_the_month_end(changed, due):
    assert rules.change_report_due(changed) == due


def test_add_months_crosses_years_both_ways():
    assert rules.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert rules.add_months(date(2026, 1, 15), 24) == date(2028, 1, 15)
    assert rules.add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_a_report_is_overdue_only_after_its_deadline_and_while_unreported():
    due = date(2026, 6, 15)
    assert not rules.is_overdue(due, None, date(2026, 6, 15))
    assert rules.is_overdue(due, None, date(2026, 6, 16))
    assert not rules.is_overdue(due, date(2026, 7, 1), date(2026, 8, 1))


@pytest.mark.parametrize("number", ["GR202345000123", " GR201945999999 "])
def test_well_formed_certificate_numbers_raise_no_warning(number):
    assert rules.certificate_number_warning(number) is None


@pytest.mark.parametrize(
    "number",
    ["GR202344000123", "GR2023450001234", "gr202345000123", "GR20234500012", "202345000123"],
)
def test_odd_certificate_numbers_are_a_warning(number):
    assert rules.certificate_number_warning(number) == (
        f"证书编号“{number}”不符合常见格式（GR + 年份 + 45 + 6 位数字），请核对"
    )


def test_days_left_and_the_lapse_reason():
    assert rules.days_left(date(2026, 12, 7), date(2026, 11, 22)) == 15
    assert rules.days_left(date(2026, 12, 7), date(2026, 12, 8)) == -1
    assert rules.lapse_reason(date(2025, 12, 7)) == "证书有效期至 2025-12-07 已届满，未取得新证书"


def test_a_certificate_holds_from_issue_to_expiry_unless_cancelled():
    issued, expires = date(2023, 12, 8), date(2026, 12, 7)
    assert certificate_valid_on(issued, expires, None, date(2023, 12, 8))
    assert certificate_valid_on(issued, expires, None, date(2026, 12, 7))
    assert not certificate_valid_on(issued, expires, None, date(2023, 12, 7))
    assert not certificate_valid_on(issued, expires, None, date(2026, 12, 8))
    assert certificate_valid_on(issued, expires, date(2025, 3, 1), date(2025, 2, 28))
    assert not certificate_valid_on(issued, expires, date(2025, 3, 1), date(2025, 3, 1))


def test_a_withdrawal_moves_the_firm_to_not_certified():
    assert rules.result_target("withdrawn") == "not_certified"
    assert rules.result_target("certified") == "certified"
    assert rules.result_target("review") == "review"


def test_batch_dates_must_be_in_order_and_in_the_batch_year():
    good = (2026, date(2026, 5, 21), date(2026, 9, 5), date(2026, 11, 10), date(2026, 11, 21))
    assert rules.batch_problems(*good) == {}
    assert rules.batch_problems(2026, date(2026, 5, 21), date(2026, 5, 21), None, None) == {}
    assert rules.batch_problems(
        2025, date(2026, 5, 21), date(2026, 5, 20), date(2026, 11, 21), date(2026, 11, 10)
    ) == {
        "closes_on": "申报截止日期不能早于申报开始日期",
        "notice_to": "公示结束日期不能早于公示开始日期",
        "year": "年度应与申报开始日期的年份（2026）一致",
    }


def test_the_batch_window():
    opens, closes = date(2026, 5, 21), date(2026, 9, 5)
    assert rules.batch_window_label(opens, closes, date(2026, 5, 20)) == "未开始"
    assert rules.batch_window_label(opens, closes, date(2026, 5, 21)) == "申报中"
    assert rules.batch_window_label(opens, closes, date(2026, 9, 5)) == "申报中"
    assert rules.batch_window_label(opens, closes, date(2026, 9, 6)) == "已截止"


def test_a_certificate_is_the_one_recorded_that_day_or_that_year_when_a_date_is_estimated():
    recorded = [(date(2021, 12, 8), False), (date(2024, 1, 1), True)]
    assert same_certificate(recorded, date(2021, 12, 8), False) == 0
    assert same_certificate(recorded, date(2024, 12, 8), False) == 1
    assert same_certificate(recorded, date(2021, 1, 1), True) == 0
    assert same_certificate(recorded, date(2021, 6, 1), False) is None
    assert same_certificate([], date(2021, 6, 1), True) is None
