"""Forms of the accounts pages."""

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from crm.accounts.rules import password_problem
from crm.core.forms import Form


def strong_password(form, field) -> None:
    """Refuse a password that is too short, lacks letters or digits, or is a common one."""
    if field.data:
        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem)


class LoginForm(Form):
    """Username and password."""

    username = StringField(
        "用户名",
        validators=[DataRequired("请输入用户名"), Length(max=64, message="用户名过长")],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "密码",
        validators=[DataRequired("请输入密码")],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordForm(Form):
    """The current password and the new one, twice."""

    current_password = PasswordField(
        "当前密码",
        validators=[DataRequired("请输入当前密码")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "新密码",
        validators=[DataRequired("请输入新密码"), strong_password],
        description="至少 8 个字符，须同时包含字母和数字；不能是常用密码，也不能包含用户名或姓名。",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "确认新密码",
        validators=[
            DataRequired("请再次输入新密码"),
            EqualTo("new_password", message="两次输入的新密码不一致"),
        ],
        render_kw={"autocomplete": "new-password"},
    )
