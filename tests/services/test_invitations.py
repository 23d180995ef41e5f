"""Invitations against a real database: tokens kept as digests, expiry, single use, resend,
revoke, and the e-mail that carries the link."""

import hashlib
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from crm.accounts import invitations
from crm.accounts.models import Invitation, User
from crm.accounts.services import AccountError
from crm.core import clock
from crm.core.database import write_transactions
from crm.extensions import db
from crm.mail.models import OutboxMessage
from crm.portal.invitations import queue_invitation
from tests import factories

T0 = datetime(2026, 6, 15, 2, 0)  # 10:00 in the bureau
PASSWORD = "Qiye-mima-2026"


@pytest.fixture
def world(app):
    manager = factories.make_user("manager", name="王专员")
    firm = factories.make_firm(manager=manager)
    return {"manager": manager, "firm": firm}


def _invite(world, **values) -> tuple[Invitation, str]:
    values.setdefault("invitee", "张经理")
    with clock.frozen(T0):
        return invitations.create_invitation(world["firm"], actor=world["manager"], **values)


def _accept(invitation, username="zhang", **values) -> User:
    details = {"username": username, "name": "张三", "phone": "13800000000", "password": PASSWORD}
    return invitations.accept(invitation, **{**details, **values})


def test_a_new_invitation_keeps_only_the_digest_of_its_token_for_seven_days(world):
    invitation, token = _invite(world, email=" Zhang@Example.COM ")
    assert len(token) >= 43
    assert invitation.token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {invitation.token_digest, invitation.email, invitation.invitee}
    assert invitation.expires_at == T0 + timedelta(days=7)
    assert invitation.email == "Zhang@example.com"
    assert invitation.created_by_id == world["manager"].id
    assert invitations.find_invitation(token) is invitation
    assert invitations.find_invitation(token + "x") is None
    assert invitations.find_invitation("") is None


def test_the_validity_comes_from_the_configuration(app, world):
    app.config["INVITATION_DAYS"] = 3
    invitation, _ = _invite(world)
    assert invitation.expires_at == T0 + timedelta(days=3)


def test_an_invitation_needs_someone_and_a_plain_address(world):
    with pytest.raises(AccountError) as error:
        _invite(world, invitee="  ", email="")
    assert error.value.field == "invitee"
    with pytest.raises(AccountError) as error:
        _invite(world, email="not an address")
    assert (error.value.field, error.value.message) == ("email", "电子邮箱格式不正确")


def test_accepting_creates_an_enterprise_user_of_the_firm_and_uses_the_link(world):
    invitation, _ = _invite(world, email="zhang@example.com")
    with clock.frozen(T0 + timedelta(days=1)):
        user = _accept(invitation, username=" Zhang ")
    assert (user.username, user.role, user.firm_id) == ("zhang", "enterprise", world["firm"].id)
    assert user.email == "zhang@example.com" and user.phone == "13800000000"
    assert user.check_password(PASSWORD) and user.is_active
    assert invitation.accepted_at == T0 + timedelta(days=1)
    assert invitation.user_id == user.id
    assert invitations.refusal(invitation) == invitations.REFUSALS["accepted"]
    with pytest.raises(AccountError) as error:
        _accept(invitation, username="again")
    assert "已被使用" in error.value.message


def test_a_firm_may_have_several_users(world):
    first, _ = _invite(world)
    second, _ = _invite(world, invitee="李会计")
    with clock.frozen(T0):
        _accept(first, username="zhang")
        _accept(second, username="lisi", name="李四")
    users = invitations.firm_users(world["firm"].id)
    assert {u.username for u in users} == {"lisi", "zhang"}


def test_an_expired_invitation_is_refused(world):
    invitation, _ = _invite(world)
    with clock.frozen(T0 + timedelta(days=7)):
        assert invitation.status(clock.utcnow()) == "expired"
        with pytest.raises(AccountError) as error:
            _accept(invitation)
    assert "已过期" in error.value.message and "服务专员" in error.value.message
    assert db.session.scalar(select(func.count(User.id)).where(User.username == "zhang")) == 0


def test_a_revoked_invitation_is_refused_and_cannot_be_resent(world):
    invitation, token = _invite(world)
    invitations.revoke(invitation)
    assert invitations.find_invitation(token) is invitation
    with pytest.raises(AccountError) as error:
        _accept(invitation)
    assert "已被撤销" in error.value.message
    with pytest.raises(AccountError):
        invitations.resend(invitation, actor=world["manager"])


def test_resending_replaces_the_link_and_starts_the_days_again(world):
    invitation, old = _invite(world)
    with clock.frozen(T0 + timedelta(days=8)):
        new = invitations.resend(invitation, actor=world["manager"])
        assert invitation.status(clock.utcnow()) == "pending"
    assert new != old
    assert invitations.find_invitation(old) is None
    assert invitations.find_invitation(new) is invitation
    assert invitation.expires_at == T0 + timedelta(days=15)


def test_an_accepted_invitation_is_neither_resent_nor_revoked(world):
    invitation, _ = _invite(world)
    with clock.frozen(T0):
        _accept(invitation)
    for action in (
        lambda: invitations.resend(invitation, actor=world["manager"]),
        lambda: invitations.revoke(invitation),
    ):
        with pytest.raises(AccountError) as error:
            action()
        assert "已被接受" in error.value.message


def test_the_claim_refuses_a_second_submission_that_read_the_invitation_as_pending(world):
    """What a submission at the same moment sees: the row pending in its memory, used in the
    database. The conditional UPDATE finds nothing to claim and no second user is made."""
    invitation, _ = _invite(world)
    with clock.frozen(T0):
        _accept(invitation, username="first")
        set_committed_value(invitation, "accepted_at", None)
        with pytest.raises(AccountError) as error:
            _accept(invitation, username="second")
    assert "已被使用" in error.value.message
    assert db.session.scalar(select(User.id).where(User.username == "second")) is None


def test_a_weak_password_is_refused_and_the_invitation_stays_usable(world):
    invitation, _ = _invite(world)
    db.session.commit()
    with clock.frozen(T0), pytest.raises(AccountError) as error:
        _accept(invitation, password="short1")
    assert (error.value.field, error.value.message) == ("password", "密码至少需要 8 个字符")
    db.session.rollback()
    assert invitation.status(T0) == "pending"


def test_an_invitation_of_a_deleted_firm_is_void(world):
    invitation, _ = _invite(world)
    world["firm"].deleted_at = T0
    with clock.frozen(T0), pytest.raises(AccountError) as error:
        _accept(invitation)
    assert "已失效" in error.value.message


def test_firm_lookups_refuse_rows_of_another_firm(world):
    invitation, _ = _invite(world)
    other = factories.make_firm()
    staff = factories.make_user("manager")
    owner = factories.make_user("enterprise", firm_id=world["firm"].id)
    assert invitations.firm_invitation(world["firm"].id, invitation.id) is invitation
    assert invitations.firm_invitation(other.id, invitation.id) is None
    assert invitations.firm_invitation(world["firm"].id, 2**40) is None
    assert invitations.firm_user(world["firm"].id, owner.id) is owner
    assert invitations.firm_user(other.id, owner.id) is None
    assert invitations.firm_user(world["firm"].id, staff.id) is None
    assert invitations.firm_invitations(world["firm"].id) == [invitation]


def test_disabling_a_firms_user_ends_their_sessions(world):
    owner = factories.make_user("enterprise", firm_id=world["firm"].id)
    token = owner.session_token
    invitations.set_firm_user_active(owner, False, actor=world["manager"])
    assert not owner.is_active and owner.session_token != token
    invitations.set_firm_user_active(owner, True, actor=world["manager"])
    assert owner.is_active


def test_the_e_mail_carries_the_link_the_firm_the_inviter_and_the_local_expiry(
    app, world, smtp_server
):
    app.config["BASE_URL"] = "https://crm.kjj.example.gov.cn"
    invitation, token = _invite(world, email="zhang@example.com")
    link = f"https://crm.kjj.example.gov.cn/portal/invitations/{token}"
    with clock.frozen(T0), app.test_request_context():
        assert queue_invitation(invitation, link, actor=world["manager"])
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.recipient == "zhang@example.com"
    assert message.kind == f"invitation:{invitation.id}"
    assert world["firm"].name in message.subject
    for body in (message.text_body, message.html_body):
        assert link in body and world["firm"].name in body and "王专员" in body
        assert "2026-06-22 10:00" in body  # 02:00 UTC seven days on, in the bureau's time
    assert invitation.sent_at == T0


def test_no_e_mail_without_an_address_or_while_e_mail_is_off(app, world):
    with app.test_request_context():
        invitation, _ = _invite(world)
        assert not queue_invitation(invitation, "https://x.test/l", actor=world["manager"])
        app.config.update(SMTP_HOST="", MAIL_FROM="")
        mailed, _ = _invite(world, email="li@example.com")
        assert not queue_invitation(mailed, "https://x.test/l", actor=world["manager"])
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


@pytest.mark.real_commits
def test_two_submissions_of_one_link_at_once_make_one_user(app):
    manager = factories.make_user("manager")
    firm = factories.make_firm(manager=manager)
    _, token = invitations.create_invitation(firm, actor=manager, invitee="张经理")
    db.session.commit()
    firm_id = firm.id
    barrier = threading.Barrier(2)
    made: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def submit(username: str) -> None:
        try:
            with app.app_context(), write_transactions():
                barrier.wait(timeout=30)
                invitation = invitations.find_invitation(token)
                try:
                    user = _accept(invitation, username=username)
                except AccountError as error:
                    db.session.rollback()
                    refused.append(error.message)
                else:
                    db.session.commit()
                    made.append(user.username)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(made) == 1 and len(refused) == 1
    db.session.remove()
    count = db.session.scalar(select(func.count(User.id)).where(User.firm_id == firm_id))
    assert count == 1
