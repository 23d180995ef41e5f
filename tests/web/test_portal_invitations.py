"""Invitations over HTTP: the 企业账号 tab, the link shown once or e-mailed, the landing that
opens the account, and who may do what (404 out of reach, 403 read-only)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.accounts import invitations
from crm.accounts.models import Invitation, User
from crm.core import clock
from crm.extensions import db
from crm.mail import sender
from crm.mail.models import OutboxMessage
from tests import factories

LINK = re.compile(r"(?:https?://[^/\s\"<]+)?/portal/invitations/([A-Za-z0-9_-]+)")
GOOD = {
    "username": "zhangsan",
    "name": "张三",
    "phone": "13800000000",
    "password": "Qiye-mima-2026",
    "confirm_password": "Qiye-mima-2026",
}


@pytest.fixture
def world(app):
    home, away = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager", name="王专员", districts=[home])
    firm = factories.make_firm(district=home)
    other = factories.make_firm(district=away)
    owner = factories.make_user("enterprise", firm_id=firm.id, name="李会计")
    stranger = factories.make_user("enterprise", firm_id=other.id)
    invitation, token = invitations.create_invitation(firm, actor=manager, invitee="张经理")
    foreign, _ = invitations.create_invitation(other, actor=manager, invitee="外企")
    db.session.commit()
    return {
        "home": home,
        "away": away,
        "manager": manager,
        "firm": firm,
        "other": other,
        "owner": owner,
        "stranger": stranger,
        "invitation": invitation,
        "token": token,
        "foreign": foreign,
    }


def _tab(world) -> str:
    return f"/firms/{world['firm'].id}?tab=accounts"


def _base(world) -> str:
    return f"/portal/firms/{world['firm'].id}"


def _writes(world) -> list[str]:
    base, invitation, owner = _base(world), world["invitation"].id, world["owner"].id
    return [
        f"{base}/invitations",
        f"{base}/invitations/{invitation}/resend",
        f"{base}/invitations/{invitation}/revoke",
        f"{base}/users/{owner}/disable",
        f"{base}/users/{owner}/enable",
    ]


def _link_in(html: str) -> str:
    match = LINK.search(html)
    assert match, html
    return f"/portal/invitations/{match.group(1)}"


def _invite(client, world, **data) -> tuple[str, str]:
    response = client.post(f"{_base(world)}/invitations", data={"invitee": "赵主任", **data})
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    return _link_in(html), html


def test_a_manager_invites_by_link_and_the_person_opens_their_account(app, client, login_as, world):
    login_as(user=world["manager"])
    tab = client.get(_tab(world)).get_data(as_text=True)
    assert "企业账号" in tab and "李会计" in tab and "张经理" in tab and "待接受" in tab
    assert "生成邀请链接" in tab and "重新发送" in tab and "撤销" in tab and "停用" in tab

    link, html = _invite(client, world)
    assert "未填写电子邮箱，系统不发送邮件" in html and "复制链接" in html
    assert "readonly" in html and "<script>" not in html
    with client.session_transaction() as session:
        assert link.rsplit("/", 1)[1] not in repr(dict(session))
    assert db.session.scalars(select(OutboxMessage)).all() == []

    visitor = app.test_client()
    form = visitor.get(link)
    assert form.status_code == 200
    assert world["firm"].name in form.get_data(as_text=True)
    assert 'value="赵主任"' in form.get_data(as_text=True)
    response = visitor.post(link, data=GOOD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/portal/")
    user = db.session.scalar(select(User).where(User.username == "zhangsan"))
    assert (user.role, user.firm_id, user.phone) == ("enterprise", world["firm"].id, "13800000000")
    # Logged in as the new user: the firm's home opens.
    assert visitor.get("/portal/").status_code == 200

    # The link is used: anyone opening it again is told so.
    again = app.test_client().get(link)
    assert again.status_code == 410
    assert "已被使用" in again.get_data(as_text=True)
    assert "服务专员" in again.get_data(as_text=True)
    tab = client.get(_tab(world)).get_data(as_text=True)
    assert "已接受" in tab and "zhangsan" in tab


def test_an_unknown_link_answers_404(client):
    assert client.get("/portal/invitations/nothing-here").status_code == 404
    assert client.post("/portal/invitations/nothing-here", data=GOOD).status_code == 404


def test_an_expired_link_answers_410_and_sends_the_person_to_their_manager(app, client, world):
    link = f"/portal/invitations/{world['token']}"
    with clock.frozen(world["invitation"].expires_at + timedelta(seconds=1)):
        response = client.get(link)
        assert client.post(link, data=GOOD).status_code == 410
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "该邀请链接已过期" in html and "请联系您的服务专员" in html
    assert db.session.scalar(select(User).where(User.username == "zhangsan")) is None


def test_a_revoked_link_answers_410(client, login_as, world):
    login_as(user=world["manager"])
    response = client.post(f"{_base(world)}/invitations/{world['invitation'].id}/revoke")
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已撤销对“张经理”的邀请" in follow and "已撤销" in follow
    gone = client.get(f"/portal/invitations/{world['token']}")
    assert gone.status_code == 410 and "已被撤销" in gone.get_data(as_text=True)


def test_resending_makes_the_old_link_fail_and_the_new_one_work(app, client, login_as, world):
    login_as(user=world["manager"])
    response = client.post(f"{_base(world)}/invitations/{world['invitation'].id}/resend")
    assert response.status_code == 200
    new = _link_in(response.get_data(as_text=True))
    visitor = app.test_client()
    assert visitor.get(f"/portal/invitations/{world['token']}").status_code == 404
    assert visitor.get(new).status_code == 200
    assert visitor.post(new, data=GOOD).status_code == 302


def test_a_weak_password_is_refused_in_chinese_and_the_link_still_works(app, client, world):
    link = f"/portal/invitations/{world['token']}"
    weak = {**GOOD, "password": "short1", "confirm_password": "short1"}
    response = client.post(link, data=weak)
    assert response.status_code == 200
    assert "密码至少需要 8 个字符" in response.get_data(as_text=True)
    common = {**GOOD, "password": "password1", "confirm_password": "password1"}
    assert "常用密码" in client.post(link, data=common).get_data(as_text=True)
    mismatch = {**GOOD, "confirm_password": "Qiye-mima-2027"}
    assert "两次输入的密码不一致" in client.post(link, data=mismatch).get_data(as_text=True)
    taken = {**GOOD, "username": world["owner"].username}
    assert "已存在" in client.post(link, data=taken).get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "zhangsan")) is None
    assert client.post(link, data=GOOD).status_code == 302


def test_someone_logged_in_is_asked_to_log_out_first(client, login_as, world):
    login_as(user=world["manager"])
    link = f"/portal/invitations/{world['token']}"
    page = client.get(link)
    assert page.status_code == 200 and "请先退出登录" in page.get_data(as_text=True)
    client.post(link, data=GOOD)
    assert db.session.scalar(select(User).where(User.username == "zhangsan")) is None


def test_the_invitation_is_e_mailed_and_delivered_with_the_link(
    app, client, login_as, world, smtp_server
):
    login_as(user=world["manager"])
    link, html = _invite(client, world, email="zhao@example.com")
    assert "邀请邮件已加入发送队列，将发往 zhao@example.com" in html
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.recipient == "zhao@example.com"
    assert link in message.text_body and link in message.html_body
    sender.send_due()
    [received] = smtp_server.to("zhao@example.com")
    assert world["firm"].name in received.message["Subject"]
    text = received.message.get_body(("plain",)).get_content()
    assert link in text and "王专员" in text and "服务专员" in text

    # A resend the same day goes out again, with the new link.
    invitation = db.session.scalar(select(Invitation).where(Invitation.email == "zhao@example.com"))
    response = client.post(f"{_base(world)}/invitations/{invitation.id}/resend")
    new = _link_in(response.get_data(as_text=True))
    assert new != link and "邀请邮件已加入发送队列" in response.get_data(as_text=True)
    sender.send_due()
    _, second = smtp_server.to("zhao@example.com")
    assert new in second.message.get_body(("plain",)).get_content()


def test_with_e_mail_off_the_page_says_no_message_went(app, client, login_as, world):
    app.config.update(SMTP_HOST="", MAIL_FROM="")
    login_as(user=world["manager"])
    _, html = _invite(client, world, email="zhao@example.com")
    assert "邮件发送未开启，未向 zhao@example.com 发送邮件" in html
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_a_bad_address_is_shown_on_the_tab(client, login_as, world):
    login_as(user=world["manager"])
    response = client.post(f"{_base(world)}/invitations", data={"invitee": "赵", "email": "zhao@"})
    assert response.status_code == 400
    assert "电子邮箱格式不正确" in response.get_data(as_text=True)
    assert db.session.scalar(select(Invitation).where(Invitation.invitee == "赵")) is None


def test_a_manager_disables_a_firms_user_who_then_cannot_log_in(app, client, login_as, world):
    owner = world["owner"]
    theirs = app.test_client()
    assert theirs.post("/login", data={"username": owner.username, "password": factories.PASSWORD})
    assert theirs.get("/portal/").status_code == 200
    login_as(user=world["manager"])
    response = client.post(f"{_base(world)}/users/{owner.id}/disable")
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, owner.id).is_active
    # Their session ends, and they cannot log in again.
    assert theirs.get("/portal/").status_code == 302
    login = app.test_client().post(
        "/login", data={"username": owner.username, "password": factories.PASSWORD}
    )
    assert login.status_code == 200 and "用户名或密码错误" in login.get_data(as_text=True)
    assert "已停用" in client.get(_tab(world)).get_data(as_text=True)

    client.post(f"{_base(world)}/users/{owner.id}/enable")
    db.session.expire_all()
    assert db.session.get(User, owner.id).is_active


def test_a_manager_out_of_reach_gets_404_on_every_invitation_route(client, login_as, world):
    login_as("manager", districts=[world["away"]])
    assert client.get(_tab(world)).status_code == 404
    for url in _writes(world):
        assert client.post(url, data={"invitee": "x"}).status_code == 404, url


def test_a_bureau_head_sees_the_tab_read_only_and_gets_403_on_writes(client, login_as, world):
    login_as("bureau_head")
    tab = client.get(_tab(world))
    assert tab.status_code == 200
    html = tab.get_data(as_text=True)
    assert "张经理" in html and "李会计" in html
    for button in ("生成邀请链接", "重新发送", ">撤销", "停用</button>"):
        assert button not in html
    for url in _writes(world):
        assert client.post(url, data={"invitee": "x"}).status_code == 403, url
    db.session.expire_all()
    assert db.session.get(User, world["owner"].id).is_active


def test_rows_of_another_firm_or_staff_users_answer_404(client, login_as, world):
    login_as(user=world["manager"])
    base = _base(world)
    assert client.post(f"{base}/invitations/{world['foreign'].id}/revoke").status_code == 404
    assert client.post(f"{base}/invitations/{world['foreign'].id}/resend").status_code == 404
    assert client.post(f"{base}/users/{world['stranger'].id}/disable").status_code == 404
    assert client.post(f"{base}/users/{world['manager'].id}/disable").status_code == 404
    assert client.post(f"{base}/invitations/{factories.MISSING_ID}/revoke").status_code == 404
    db.session.expire_all()
    assert db.session.get(Invitation, world["foreign"].id).revoked_at is None


def test_enterprise_users_see_no_invitation_route(client, login_as, world):
    login_as(user=world["owner"])
    assert client.get(_tab(world)).status_code == 404
    for url in _writes(world):
        assert client.post(url, data={"invitee": "x"}).status_code == 404, url
