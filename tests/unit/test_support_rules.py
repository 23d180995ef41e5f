"""Pure rules of the support ledger: the rule in force, the events of a move, amounts, statuses."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from crm.support import rules
from crm.support.rules import (
    RULE_EVENTS,
    AmountError,
    certification_events,
    describe_amount,
    format_yuan,
    listing_event,
    next_status,
    once_per_firm,
    parse_amount,
    rule_in_force,
    status_problems,
)


@dataclass
class Rule:
    id: int
    event: str
    effective_from: date
    is_active: bool = True


TUTOR = "listing:tutor"
VERSIONS = [
    Rule(1, TUTOR, date(2017, 1, 1)),
    Rule(2, TUTOR, date(2024, 7, 1)),
    Rule(3, TUTOR, date(2027, 1, 1)),
    Rule(4, "listing:listed", date(2025, 1, 1)),
]


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2016, 12, 31), None),
        (date(2017, 1, 1), 1),
        (date(2024, 6, 30), 1),
        (date(2024, 7, 1), 2),
        (date(2026, 12, 31), 2),
        (date(2027, 1, 1), 3),
    ],
)
def test_the_rule_in_force_is_the_latest_effective_on_or_before_the_date(on, expected):
    found = rule_in_force(VERSIONS, TUTOR, on)
    assert (found.id if found else None) == expected


def test_other_events_and_inactive_versions_are_ignored():
    versions = [*VERSIONS[:2], Rule(5, TUTOR, date(2025, 1, 1), is_active=False)]
    assert rule_in_force(versions, TUTOR, date(2025, 6, 1)).id == 2
    assert rule_in_force(versions, "listing:filed", date(2025, 6, 1)) is None
    assert rule_in_force([], TUTOR, date(2025, 6, 1)) is None


def test_of_two_versions_taking_effect_the_same_day_the_later_entered_wins():
    versions = [Rule(8, TUTOR, date(2025, 1, 1)), Rule(9, TUTOR, date(2025, 1, 1))]
    assert rule_in_force(versions, TUTOR, date(2025, 1, 1)).id == 9
    assert rule_in_force(list(reversed(versions)), TUTOR, date(2025, 1, 1)).id == 9


def test_every_listing_stage_but_the_exit_names_an_event():
    assert listing_event("tutor") == "listing:tutor"
    assert listing_event("neeq") == "listing:neeq"
    assert listing_event("reform") == "listing:reform"
    assert listing_event("sign") == "listing:sign"
    assert RULE_EVENTS["listing:sign"] == "上市后备：券商签约"
    assert listing_event("withdrawn") is None
    assert listing_event("unknown") is None


def test_a_first_certification_rewards_the_firm_and_its_incubator():
    assert certification_events(first=True, incubated=False) == [("hte:first_certified", False)]
    assert certification_events(first=True, incubated=True) == [
        ("hte:first_certified", False),
        ("hte:incubated_certified", True),
    ]


def test_a_later_certification_is_a_re_certification_even_for_an_incubated_firm():
    assert certification_events(first=False, incubated=True) == [("hte:recertified", False)]


def test_listing_stages_and_first_awards_pay_once_per_firm():
    assert once_per_firm("listing:tutor") and once_per_firm("hte:first_certified")
    assert once_per_firm("hte:incubated_certified")
    assert not once_per_firm("hte:recertified") and not once_per_firm("hte:not_certified")


def test_seed_rules_carry_the_nanning_2017_listing_values_and_undecided_awards():
    seeded = {seed.event: seed for seed in rules.SEED_RULES}
    assert {event: seeded[event].amount for event in seeded if event.startswith("listing:")} == {
        "listing:tutor": Decimal("500000"),
        "listing:tutor_done": Decimal("500000"),
        "listing:filed": Decimal("1000000"),
        "listing:listed": Decimal("2000000"),
        "listing:neeq": Decimal("500000"),
    }
    for event in ("hte:first_certified", "hte:recertified", "hte:incubated_certified"):
        assert seeded[event].amount is None and seeded[event].kind in rules.SUPPORT_KINDS
    assert seeded["hte:not_certified"].kind == "coaching_fund"
    assert seeded["hte:incubated_certified"].kind == "incubator_award"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500000", "500000.00"),
        ("500,000.00", "500000.00"),
        ("¥ 500，000", "500000.00"),
        ("５０万", "500000.00"),
        ("50万元", "500000.00"),
        ("12.3456 万", "123456.00"),
        ("0.5万", "5000.00"),
        ("1234.5元", "1234.50"),
        ("0", "0.00"),
        (".5", "0.50"),
    ],
)
def test_amounts_are_read_in_yuan_with_separators_and_wan(text, expected):
    assert parse_amount(text) == Decimal(expected)


def test_an_empty_amount_is_none():
    assert parse_amount("") is None
    assert parse_amount("  ") is None
    assert parse_amount(None) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-100", "金额不能为负数"),
        ("12.345", "金额最多精确到分"),
        ("1.0000001万", "金额最多精确到分"),
        ("五十万", "请输入金额"),
        ("1e5", "请输入金额"),
        ("50万5000", "请输入金额"),
        ("1" * 15, "金额过大"),
    ],
)
def test_unreadable_amounts_say_why(text, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(text)


def test_amounts_are_shown_with_separators_or_as_undecided():
    assert format_yuan(Decimal("1234567.5")) == "1,234,567.50"
    assert format_yuan(None) == ""
    assert describe_amount(Decimal("500000")) == "500,000.00 元"
    assert describe_amount(None) == "金额待定"


def test_statuses_move_claimable_applied_paid():
    assert next_status("claimable") == "applied"
    assert next_status("applied") == "paid"
    assert next_status("paid") is None


def test_a_paid_entry_needs_its_document_number_and_date():
    assert status_problems("claimable", None, None) == []
    assert status_problems("applied", "", None) == []
    assert status_problems("paid", " ", None) == [
        "已拨付的扶持需填写拨付文号",
        "已拨付的扶持需填写拨付日期",
    ]
    assert status_problems("paid", "梧科字〔2026〕8号", date(2026, 5, 1)) == []
    assert status_problems("lost", None, None) == ["未知的状态"]
