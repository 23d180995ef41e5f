"""User administration pages: admins only."""

import pytest
from sqlalchemy import select

from crm.accounts.models import User
from crm.extensions import db
from tests import factories


def user_named(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).filter_by(username=username))


def new_user_data(**overrides) -> dict:
    data = {
        "username": "zhangsan",
        "name": "张三",
        "email": "zhangsan@example.cn",
        "phone": "13800000000",
        "role": "bureau_head",
        "firm": "",
        "is_active": "y",
        "password": "kapok7-blossom",
        "confirm_password": "kapok7-blossom",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["manager", "bureau_head", "enterprise"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/users"),
        ("get", "/admin/users/new"),
        ("post", "/admin/users/new"),
        ("get", "/admin/users/{id}/edit"),
        ("post", "/admin/users/{id}/toggle"),
    ],
)
def test_non_admins_are_forbidden_from_user_pages(client, login_as, role, method, path):
    extra = {"firm": factories.make_firm()} if role == "enterprise" else {}
    me = login_as(role, **extra)
    response = getattr(client, method)(
        path.format(id=me.id), headers={"Accept": "application/json"}
    )
    # Staff are refused; to an enterprise user the bureau's pages do not exist.
    assert response.status_code == (404 if role == "enterprise" else 403)
    assert user_named(me.username).is_active


def test_admin_lists_users_with_role_districts_and_firm(client, login_as):
    login_as("admin")
    factories.make_user("manager", username="wang", name="王专员", districts=[factories.district()])
    firm = factories.make_firm(name="梧州列表科技有限公司")
    factories.make_user("enterprise", username="qiye", firm=firm)
    db.session.commit()
    page = client.get("/admin/users").get_data(as_text=True)
    assert "王专员" in page
    assert "服务专员" in page
    assert factories.district().name in page
    assert "梧州列表科技有限公司" in page


def test_admin_filters_users_by_role_and_text(client, login_as):
    login_as("admin", username="boss")
    factories.make_user("manager", username="wang", name="王专员")
    factories.make_user("manager", username="zhao", name="赵专员")
    factories.make_user("bureau_head", username="lin", name="林局长")
    db.session.commit()
    page = client.get("/admin/users?role=manager").get_data(as_text=True)
    assert "王专员" in page and "赵专员" in page
    assert "林局长" not in page and "boss" not in page
    page = client.get("/admin/users?q=赵").get_data(as_text=True)
    assert "赵专员" in page and "王专员" not in page


def test_admin_creates_a_user(client, login_as):
    login_as("admin")
    response = client.post("/admin/users/new", data=new_user_data(username="ZhangSan"))
    assert response.status_code == 302
    user = user_named("zhangsan")
    assert user.role == "bureau_head"
    assert user.email == "zhangsan@example.cn"
    assert user.is_active
    assert user.check_password("kapok7-blossom")


def test_admin_creates_a_manager_with_districts(client, login_as):
    login_as("admin")
    first, second = factories.district("450403"), factories.district("450405")
    data = new_user_data(role="manager", districts=[str(first.id), str(second.id)])
    assert client.post("/admin/users/new", data=data).status_code == 302
    assert {d.code for d in user_named("zhangsan").districts} == {"450403", "450405"}


def test_creating_a_duplicate_username_is_refused(client, login_as):
    login_as("admin")
    factories.make_user("manager", username="zhangsan")
    db.session.commit()
    response = client.post("/admin/users/new", data=new_user_data(username="ZHANGSAN"))
    assert response.status_code == 200
    assert "用户名 zhangsan 已存在" in response.get_data(as_text=True)


def test_creating_a_malformed_username_is_refused(client, login_as):
    login_as("admin")
    response = client.post("/admin/users/new", data=new_user_data(username="张 三"))
    assert "用户名须为 3–64 位小写字母、数字或 _ . -" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).filter_by(name="张三")) is None


def test_an_enterprise_user_requires_a_firm(client, login_as):
    login_as("admin")
    response = client.post("/admin/users/new", data=new_user_data(role="enterprise"))
    assert "企业用户必须关联一家企业" in response.get_data(as_text=True)
    assert user_named("zhangsan") is None


def test_an_unknown_firm_is_refused_with_a_clear_error(client, login_as):
    login_as("admin")
    data = new_user_data(role="enterprise", firm="不存在的企业有限公司")
    response = client.post("/admin/users/new", data=data)
    assert "未找到统一社会信用代码或名称为「不存在的企业有限公司」的企业" in response.get_data(
        as_text=True
    )
    assert user_named("zhangsan") is None


def test_an_enterprise_user_is_linked_to_the_firm_by_code_or_name(client, login_as):
    login_as("admin")
    firm = factories.make_firm(name="梧州关联科技有限公司")
    db.session.commit()
    data = new_user_data(role="enterprise", firm=firm.uscc)
    assert client.post("/admin/users/new", data=data).status_code == 302
    assert user_named("zhangsan").firm_id == firm.id
    data = new_user_data(username="lisi", role="enterprise", firm="梧州关联科技有限公司")
    assert client.post("/admin/users/new", data=data).status_code == 302
    assert user_named("lisi").firm_id == firm.id


def test_a_staff_user_cannot_be_linked_to_a_firm(client, login_as):
    login_as("admin")
    firm = factories.make_firm()
    db.session.commit()
    response = client.post("/admin/users/new", data=new_user_data(firm=firm.uscc))
    assert "只有企业用户可以关联企业" in response.get_data(as_text=True)


def test_edit_page_shows_the_current_details(client, login_as):
    login_as("admin")
    firm = factories.make_firm()
    user = factories.make_user("enterprise", name="企业联系人", firm=firm)
    db.session.commit()
    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "企业联系人" in page
    assert firm.uscc in page


def test_admin_edits_a_user(client, login_as):
    login_as("admin")
    user = factories.make_user("bureau_head", username="wang")
    district = factories.district()
    db.session.commit()
    data = {
        "name": "王新名",
        "email": "",
        "phone": "0774-1234567",
        "role": "manager",
        "districts": [str(district.id)],
        "firm": "",
        "is_active": "y",
        "password": "",
        "confirm_password": "",
    }
    response = client.post(f"/admin/users/{user.id}/edit", data=data)
    assert response.status_code == 302
    user = user_named("wang")
    assert (user.name, user.role, user.phone) == ("王新名", "manager", "0774-1234567")
    assert user.districts == [district]
    assert user.check_password(factories.PASSWORD)


def test_admin_sets_a_new_password_on_edit(client, login_as):
    login_as("admin")
    user = factories.make_user("manager", username="wang")
    db.session.commit()
    data = {
        "name": user.name,
        "role": "manager",
        "is_active": "y",
        "password": "reset1234",
        "confirm_password": "reset1234",
    }
    assert client.post(f"/admin/users/{user.id}/edit", data=data).status_code == 302
    assert user_named("wang").check_password("reset1234")


def test_admin_cannot_set_a_common_password_or_one_like_the_username(client, login_as):
    login_as("admin")
    response = client.post(
        "/admin/users/new", data=new_user_data(password="abc123456", confirm_password="abc123456")
    )
    assert "这是一个常用密码，很容易被猜中，请换一个" in response.get_data(as_text=True)
    user = factories.make_user("manager", username="wangwei")
    db.session.commit()
    data = {"name": user.name, "role": "manager", "is_active": "y"}
    reset = {"password": "WangWei-88", "confirm_password": "WangWei-88"}
    response = client.post(f"/admin/users/{user.id}/edit", data={**data, **reset})
    assert "密码不能包含用户名，也不能包含倒写的用户名" in response.get_data(as_text=True)
    assert user_named("zhangsan") is None
    assert user_named("wangwei").check_password(factories.PASSWORD)


def test_editing_an_unknown_user_is_not_found(client, login_as):
    login_as("admin")
    assert client.get(f"/admin/users/{factories.MISSING_ID}/edit").status_code == 404


def test_admin_disables_and_enables_a_user(client, login_as):
    login_as("admin")
    user = factories.make_user("manager", username="wang")
    db.session.commit()
    response = client.post(f"/admin/users/{user.id}/toggle")
    assert response.status_code == 302
    assert response.location == "/admin/users"
    assert not user_named("wang").is_active
    client.post(f"/admin/users/{user.id}/toggle")
    assert user_named("wang").is_active


def test_toggle_requires_post(client, login_as):
    login_as("admin")
    user = factories.make_user("manager")
    db.session.commit()
    response = client.get(f"/admin/users/{user.id}/toggle", headers={"Accept": "application/json"})
    assert response.status_code == 405


def test_an_admin_cannot_disable_themself(client, login_as):
    me = login_as("admin")
    response = client.post(f"/admin/users/{me.id}/toggle", follow_redirects=True)
    assert "不能停用自己的账号" in response.get_data(as_text=True)
    assert user_named(me.username).is_active


def test_an_admin_cannot_disable_themself_through_the_edit_form(client, login_as):
    me = login_as("admin")
    data = {"name": me.name, "role": "admin", "password": "", "confirm_password": ""}
    response = client.post(f"/admin/users/{me.id}/edit", data=data)
    assert response.status_code == 200
    assert "不能停用自己的账号" in response.get_data(as_text=True)
    assert user_named(me.username).is_active


def test_editing_an_enterprise_user_keeps_the_firm_when_not_resubmitted(client, login_as):
    login_as("admin")
    firm = factories.make_firm()
    user = factories.make_user("enterprise", username="qiye", firm=firm)
    db.session.commit()
    data = {"name": "新联系人", "role": "enterprise", "is_active": "y"}
    assert client.post(f"/admin/users/{user.id}/edit", data=data).status_code == 302
    user = user_named("qiye")
    assert (user.name, user.firm_id) == ("新联系人", firm.id)
