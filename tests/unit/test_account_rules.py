"""The password rule: length, letters and digits, the common list, and closeness to the person."""

import pytest

from crm.accounts.rules import (
    account_wait_minutes,
    common_passwords,
    password_problem,
    session_expired,
)

COMMON = "这是一个常用密码，很容易被猜中，请换一个"
LIKE_USERNAME = "密码不能包含用户名，也不能包含倒写的用户名"
LIKE_NAME = "密码不能包含姓名，也不能包含倒写的姓名"


def test_the_shipped_list_holds_thousands_of_lower_cased_passwords():
    passwords = common_passwords()
    assert len(passwords) > 10_000
    assert all(p == p.lower() and p == p.strip() and p for p in passwords)
    assert {"123456", "password", "qwerty", "1qaz2wsx"} <= passwords


def test_the_list_holds_the_chinese_favourites():
    chinese = {"5201314", "woaini1314", "qq123456", "abc123456", "1314520", "wodemima"}
    assert chinese <= common_passwords()


@pytest.mark.parametrize(
    "password", ["qq123456", "abc123456", "woaini1314", "Woaini1314", "P@ssw0rd", "QWER1234"]
)
def test_a_common_password_is_refused_in_any_case(password):
    assert password_problem(password) == COMMON


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("abc1234", "密码至少需要 8 个字符"),
        ("abcdefghij", "密码须同时包含字母和数字"),
        ("1234567890", "密码须同时包含字母和数字"),
        ("a1" * 65, "密码不能超过 128 个字符"),
        ("kapok7-blossom", None),
    ],
)
def test_the_length_and_character_rules_still_hold(password, problem):
    assert password_problem(password) == problem


@pytest.mark.parametrize(
    "password", ["zhangsan2024", "my-ZhangSan-9", "nasgnahz77x", "Zhangsan12345"]
)
def test_a_password_containing_the_username_or_its_reverse_is_refused(password):
    assert password_problem(password, username="zhangsan") == LIKE_USERNAME
    assert password_problem(password, username="someone") is None


def test_a_password_containing_the_name_is_refused_in_latin_or_chinese_letters():
    assert password_problem("wang-wei-2024", name="Wang Wei") is None
    assert password_problem("wangwei-2024x", name="Wang Wei") == LIKE_NAME
    assert password_problem("王五kapok7", name="王五") == LIKE_NAME
    assert password_problem("五王kapok7", name="王五") == LIKE_NAME
    assert password_problem("王kapok7-tree", name="王五") is None


def test_a_very_short_latin_username_does_not_forbid_every_password_with_it():
    assert password_problem("liquid-42x", username="li") is None
    assert password_problem("liquid-42x", username="liq") == LIKE_USERNAME


def wait_after(failures: int) -> int:
    return account_wait_minutes(failures, free_failures=10, first_wait=1, longest_wait=30)


def test_an_account_waits_nothing_for_its_first_failures_then_longer_each_time():
    assert [wait_after(n) for n in range(1, 11)] == [0] * 10
    assert [wait_after(n) for n in range(11, 17)] == [1, 2, 4, 8, 16, 30]


def test_the_account_wait_never_exceeds_the_longest():
    assert {wait_after(n) for n in range(16, 200)} == {30}


@pytest.mark.parametrize(
    ("started", "seen", "now", "over"),
    [
        (0, 0, 7200, False),
        (0, 0, 7201, True),
        (0, 40000, 43200, False),
        (0, 43000, 43201, True),
        (None, 0, 1, True),
        (0, None, 1, True),
    ],
)
def test_a_session_is_over_when_idle_or_old_or_without_its_times(started, seen, now, over):
    limits = {"idle_seconds": 7200, "max_seconds": 43200}
    assert session_expired(started, seen, now, **limits) is over
