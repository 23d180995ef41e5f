"""Account use cases against a real database: lockout, passwords, administration, the CLI."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from crm.accounts import services
from crm.accounts.models import AccountThrottle, LoginThrottle, User
from crm.admin import services as admin_services
from crm.core import clock
from crm.extensions import db
from tests import factories

T0 = datetime(2026, 3, 2, 1, 30)
HOME = "10.0.0.1"


def fail(username: str, times: int, address: str = HOME) -> str | None:
    message = None
    for _ in range(times):
        user, message = services.authenticate(username, "wrong-password-9", address)
        assert user is None
    return message


def account_throttle(username: str) -> AccountThrottle | None:
    return db.session.scalar(select(AccountThrottle).filter_by(username=username))


def throttle(username: str, address: str = HOME) -> LoginThrottle | None:
    return db.session.scalar(select(LoginThrottle).filter_by(username=username, address=address))


def test_authenticate_accepts_the_right_password_and_records_the_login(app):
    user = factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        found, message = services.authenticate("wang", factories.PASSWORD, HOME)
    assert found is user
    assert message is None
    assert user.last_login_at == T0


def test_authenticate_trims_and_lower_cases_the_username(app):
    user = factories.make_user("manager", username="wang")
    found, _ = services.authenticate("  WANG ", factories.PASSWORD, HOME)
    assert found is user


def test_wrong_password_unknown_user_and_disabled_account_get_the_same_message(app):
    factories.make_user("manager", username="wang")
    factories.make_user("manager", username="off", is_active=False)
    answers = [
        services.authenticate("wang", "wrong-password-9", HOME),
        services.authenticate("nobody", factories.PASSWORD, HOME),
        services.authenticate("off", factories.PASSWORD, HOME),
    ]
    assert answers == [(None, "用户名或密码错误")] * 3


def test_fifth_failure_locks_the_username_for_fifteen_minutes_from_that_address(app):
    factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        assert fail("wang", 4) == "用户名或密码错误"
        assert fail("wang", 1) == "登录失败次数过多，该账号已被锁定，请在 15 分钟后再试。"
        assert throttle("wang").locked_until == T0 + timedelta(minutes=15)


def test_a_locked_username_refuses_the_right_password_and_counts_down(app):
    user = factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        fail("wang", 5)
        clock.advance(timedelta(minutes=10, seconds=30))
        found, message = services.authenticate("wang", factories.PASSWORD, HOME)
    assert found is None
    assert message == "登录失败次数过多，该账号已被锁定，请在 5 分钟后再试。"
    assert user.last_login_at is None


def test_a_lock_expires_and_the_count_starts_again(app):
    user = factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        fail("wang", 5)
        clock.advance(timedelta(minutes=15, seconds=1))
        assert fail("wang", 1) == "用户名或密码错误"
        assert throttle("wang").failures == 1
        found, _ = services.authenticate("wang", factories.PASSWORD, HOME)
    assert found is user


def test_a_lock_from_one_address_does_not_lock_another(app):
    user = factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        fail("wang", 5)
        found, message = services.authenticate("wang", factories.PASSWORD, "10.0.0.2")
    assert found is user
    assert message is None


def test_a_success_clears_the_failure_count(app):
    factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        fail("wang", 4)
        services.authenticate("wang", factories.PASSWORD, HOME)
        assert throttle("wang") is None
        assert fail("wang", 4) == "用户名或密码错误"


def test_unknown_usernames_are_throttled_like_real_ones(app):
    with clock.frozen(T0):
        assert fail("Ghost", 5).startswith("登录失败次数过多")
    assert throttle("ghost").failures == 5


def wait_message(minutes: int) -> str:
    return f"该账号近来登录失败次数过多，每次失败后须等待更久，请在 {minutes} 分钟后再试。"


def address_message(minutes: int) -> str:
    return f"您所在的网络地址登录失败次数过多，已暂停登录，请在 {minutes} 分钟后再试。"


def fail_from_many(username: str, times: int, first: int = 1) -> str | None:
    """Fail at `username` once from each of `times` addresses, as a spread-out guesser does."""
    message = None
    for n in range(first, first + times):
        message = fail(username, 1, address=f"198.51.100.{n}")
    return message


def test_failures_at_one_account_from_many_addresses_make_its_next_attempt_wait(app):
    user = factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        assert fail_from_many("wang", 10) == "用户名或密码错误"
        assert fail_from_many("wang", 1, first=11) == wait_message(1)
        found, message = services.authenticate("wang", factories.PASSWORD, "10.9.9.9")
        assert (found, message) == (None, wait_message(1))
        clock.advance(timedelta(minutes=1))
        assert fail_from_many("wang", 1, first=12) == wait_message(2)
        clock.advance(timedelta(minutes=2))
        found, _ = services.authenticate("wang", factories.PASSWORD, "10.9.9.9")
    assert found is user
    assert db.session.scalar(select(AccountThrottle).filter_by(username="wang")) is None


def test_attempts_during_the_wait_are_refused_without_lengthening_it(app):
    factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        fail_from_many("wang", 11)
        for _ in range(5):
            assert fail("wang", 1, address="10.9.9.9") == wait_message(1)
        assert account_throttle("wang").failures == 11


def test_the_account_wait_grows_to_thirty_minutes_and_no_further(app):
    factories.make_user("manager", username="wang")
    waits = []
    with clock.frozen(T0):
        fail_from_many("wang", 10)
        for n in range(11, 20):
            fail_from_many("wang", 1, first=n)
            row = account_throttle("wang")
            waits.append(row.wait_until - clock.utcnow())
            clock.advance(waits[-1])
    assert [int(w.total_seconds() // 60) for w in waits] == [1, 2, 4, 8, 16, 30, 30, 30, 30]


def test_an_accounts_failures_are_forgotten_after_a_quiet_day(app):
    factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        fail_from_many("wang", 10)
        clock.advance(timedelta(hours=24))
        assert fail_from_many("wang", 10, first=20) == "用户名或密码错误"
        assert account_throttle("wang").failures == 10


def test_an_admin_password_reset_ends_the_account_wait(app):
    admin = factories.make_user("admin")
    user = factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        fail_from_many("wang", 11)
        services.update_user(
            user, actor=admin, name=user.name, role="manager", password="fresh1234"
        )
        found, _ = services.authenticate("wang", "fresh1234", HOME)
    assert found is user


def test_one_guess_each_at_many_accounts_locks_the_address(app):
    user = factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        for n in range(19):
            assert fail(f"guess{n}", 1) == "用户名或密码错误"
        assert fail("guess19", 1) == address_message(15)
        clock.advance(timedelta(minutes=5))
        found, message = services.authenticate("wang", factories.PASSWORD, HOME)
        assert (found, message) == (None, address_message(10))
        found, _ = services.authenticate("wang", factories.PASSWORD, "10.0.0.2")
        assert found is user
        clock.advance(timedelta(minutes=10))
        found, _ = services.authenticate("wang", factories.PASSWORD, HOME)
    assert found is user


def test_an_addresss_failures_count_within_a_window(app):
    with clock.frozen(T0):
        for n in range(19):
            fail(f"guess{n}", 1)
        clock.advance(timedelta(minutes=15))
        for n in range(19):
            assert fail(f"other{n}", 1) == "用户名或密码错误"


def test_a_success_does_not_clear_the_addresss_failures(app):
    factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        for n in range(19):
            fail(f"guess{n}", 1)
        services.authenticate("wang", factories.PASSWORD, HOME)
        assert fail("guess19", 1) == address_message(15)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("abc1234", "密码至少需要 8 个字符"),
        ("abcdefgh", "密码须同时包含字母和数字"),
        ("12345678", "密码须同时包含字母和数字"),
        ("kapok7-blossom", None),
    ],
)
def test_password_rule_needs_eight_characters_with_letters_and_digits(password, problem):
    assert services.password_problem(password) == problem


def test_change_password_checks_the_current_one_and_stamps_the_change(app):
    user = factories.make_user("manager")
    with pytest.raises(services.AccountError) as refused:
        services.change_password(user, "not-it-123", "newpass123")
    assert refused.value.field == "current_password"
    with clock.frozen(T0):
        services.change_password(user, factories.PASSWORD, "newpass123")
    assert user.check_password("newpass123")
    assert user.password_changed_at == T0


def test_create_user_refuses_a_common_password_or_one_like_the_username(app):
    with pytest.raises(services.AccountError, match="常用密码") as refused:
        services.create_user(username="zhang", name="张三", role="admin", password="qq123456")
    assert refused.value.field == "password"
    with pytest.raises(services.AccountError, match="用户名"):
        services.create_user(username="zhang", name="张三", role="admin", password="Zhang-2024")
    assert created("zhang") is None


def test_an_admin_reset_refuses_a_password_like_the_name(app):
    admin = factories.make_user("admin")
    user = factories.make_user("manager", username="wang", name="Li Lei")
    with pytest.raises(services.AccountError, match="姓名") as refused:
        services.update_user(
            user, actor=admin, name="Li Lei", role="manager", password="lilei-1990"
        )
    assert refused.value.field == "password"
    assert user.check_password(factories.PASSWORD)


def test_change_password_refuses_a_common_one_on_the_new_password_field(app):
    user = factories.make_user("manager")
    with pytest.raises(services.AccountError, match="常用密码") as refused:
        services.change_password(user, factories.PASSWORD, "Woaini1314")
    assert refused.value.field == "new_password"
    assert user.check_password(factories.PASSWORD)


def test_create_user_refuses_a_username_taken_in_another_case(app):
    factories.make_user("manager", username="wang")
    with pytest.raises(services.AccountError, match="已存在"):
        services.create_user(username="WANG", name="王五", role="admin", password="kapok7-blossom")


def test_create_user_refuses_a_malformed_username(app):
    with pytest.raises(services.AccountError) as refused:
        services.create_user(username="王五", name="王五", role="admin", password="kapok7-blossom")
    assert refused.value.field == "username"


def test_enterprise_user_needs_a_firm_and_staff_may_not_have_one(app):
    firm = factories.make_firm()
    with pytest.raises(services.AccountError, match="必须关联"):
        services.create_user(
            username="qy1", name="企业", role="enterprise", password="kapok7-blossom"
        )
    with pytest.raises(services.AccountError, match="只有企业用户"):
        services.create_user(
            username="zy1", name="专员", role="manager", password="kapok7-blossom", firm=firm
        )


def test_resolve_firm_finds_by_code_in_any_form_or_by_exact_name(app):
    firm = factories.make_firm(name="梧州解析科技有限公司")
    assert admin_services.resolve_firm(f" {firm.uscc.lower()} ") is firm
    assert admin_services.resolve_firm("梧州解析科技有限公司") is firm
    with pytest.raises(services.AccountError, match="未找到"):
        admin_services.resolve_firm("梧州解析科技")


def test_districts_are_kept_only_for_managers(app):
    district = factories.district()
    admin = factories.make_user("admin")
    user = services.create_user(
        username="zy2", name="专员", role="manager", password="kapok7-blossom", districts=[district]
    )
    assert user.districts == [district]
    services.update_user(user, actor=admin, name="专员", role="bureau_head", districts=[district])
    assert user.districts == []


def test_an_admin_cannot_disable_or_demote_themself(app):
    admin = factories.make_user("admin")
    with pytest.raises(services.AccountError, match="不能停用自己"):
        services.set_user_active(admin, False, actor=admin)
    with pytest.raises(services.AccountError, match="不能修改自己的角色"):
        services.update_user(admin, actor=admin, name="管理员", role="manager")
    assert admin.is_active
    assert admin.role == "admin"


def test_an_admin_password_reset_lifts_the_login_lock(app):
    admin = factories.make_user("admin")
    user = factories.make_user("manager", username="wang")
    with clock.frozen(T0):
        fail("wang", 5)
        services.update_user(
            user, actor=admin, name=user.name, role="manager", password="fresh1234"
        )
        found, _ = services.authenticate("wang", "fresh1234", HOME)
    assert found is user


def created(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).filter_by(username=username))


def test_cli_create_user_makes_a_manager_with_districts(runner):
    result = runner.invoke(
        args=[
            "crm", "create-user", "--username", "Zhang", "--name", "张三", "--role", "manager",
            "--password", "kapok7-blossom", "--email", "zhang@example.cn",
            "--district", "450403", "--district", "450405",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已创建用户 zhang（服务专员）" in result.output
    user = created("zhang")
    assert [d.code for d in user.districts] == ["450403", "450405"]
    assert user.email == "zhang@example.cn"
    assert user.check_password("kapok7-blossom")


def test_cli_create_user_prompts_for_the_password_twice(runner):
    result = runner.invoke(
        args=["crm", "create-user", "--username", "lisi", "--name", "李四", "--role", "admin"],
        input="kapok7-blossom\nkapok7-blossom\n",
    )
    assert result.exit_code == 0, result.output
    assert "kapok7-blossom" not in result.output
    assert created("lisi").check_password("kapok7-blossom")


def test_cli_create_user_links_an_enterprise_user_to_its_firm(runner):
    firm = factories.make_firm()
    db.session.commit()
    result = runner.invoke(
        args=[
            "crm", "create-user", "--username", "qiye", "--name", "赵六", "--role", "enterprise",
            "--password", "kapok7-blossom", "--firm-uscc", firm.uscc,
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert created("qiye").firm_id == firm.id


def test_cli_create_user_refuses_a_duplicate_in_chinese(runner):
    factories.make_user("admin", username="lisi")
    db.session.commit()
    result = runner.invoke(
        args=[
            "crm", "create-user", "--username", "LISI", "--name", "李四", "--role", "admin",
            "--password", "kapok7-blossom",
        ]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "用户名 lisi 已存在" in result.output


def test_cli_create_user_refuses_an_unknown_district(runner):
    result = runner.invoke(
        args=[
            "crm", "create-user", "--username", "zhou", "--name", "周七", "--role", "manager",
            "--password", "kapok7-blossom", "--district", "999999",
        ]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "未找到县（市、区）代码：999999" in result.output
    assert created("zhou") is None


def test_cli_create_user_refuses_a_common_password_in_chinese(runner):
    result = runner.invoke(
        args=[
            "crm", "create-user", "--username", "zhou", "--name", "周七", "--role", "admin",
            "--password", "abc123456",
        ]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "这是一个常用密码，很容易被猜中，请换一个" in result.output
    assert created("zhou") is None
