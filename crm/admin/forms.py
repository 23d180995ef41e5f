"""Forms of the administration pages."""

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from crm.accounts.forms import strong_password
from crm.accounts.models import ROLES, User
from crm.accounts.services import USERNAME_RULE, district_choices, normalize_username
from crm.core.forms import Form, search_words


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class UserFilterForm(PlainForm):
    """Filters of the user list, read from the query string."""

    role = SelectField(
        "角色",
        choices=[SelectChoice("", "全部角色"), *(SelectChoice(k, v) for k, v in ROLES.items())],
        validators=[Optional()],
    )
    q = StringField(
        "关键词", filters=[search_words], render_kw={"placeholder": "用户名、姓名、电话或企业"}
    )


class UserForm(Form):
    """The details an administrator sets on an account."""

    name = StringField(
        "姓名", filters=[_strip], validators=[DataRequired("请填写姓名"), Length(max=64)]
    )
    email = EmailField(
        "电子邮箱",
        filters=[_strip],
        validators=[Optional(), Email("电子邮箱格式不正确"), Length(max=254)],
    )
    phone = StringField(
        "手机号码",
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(r"^[0-9+\- ]{5,32}$", message="电话号码只能包含数字、空格、+ 和 -"),
        ],
    )
    role = SelectField(
        "角色",
        choices=[SelectChoice(k, v) for k, v in ROLES.items()],
        validators=[DataRequired()],
    )
    districts = SelectMultipleField(
        "负责的县（市、区）",
        coerce=int,
        description="仅对服务专员有效；按住 Ctrl 可多选。",
        render_kw={"size": 7},
    )
    firm = StringField(
        "所属企业",
        filters=[_strip],
        validators=[Length(max=200)],
        description="企业用户必填：填写企业的统一社会信用代码或完整名称。",
    )
    is_active = BooleanField("启用账号", default=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.districts.choices = [SelectChoice(i, name) for i, name in district_choices()]


class UserNewForm(UserForm):
    """A new account: the fields of every account plus username and password."""

    username = StringField(
        "用户名",
        filters=[normalize_username],
        validators=[
            DataRequired("请填写用户名"),
            Regexp(r"^[a-z0-9_.-]{3,64}$", message=USERNAME_RULE),
        ],
        description="3–64 位小写字母、数字或 _ . -，保存后不能修改。",
        render_kw={"autocomplete": "off"},
    )
    password = PasswordField(
        "初始密码",
        validators=[DataRequired("请设置初始密码"), strong_password],
        description="至少 8 个字符，须同时包含字母和数字；不能是常用密码，也不能包含用户名或姓名。",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "确认密码",
        validators=[DataRequired("请再次输入密码"), EqualTo("password", "两次输入的密码不一致")],
        render_kw={"autocomplete": "new-password"},
    )


class UserEditForm(UserForm):
    """Changes to an existing account, with an optional new password."""

    @classmethod
    def for_user(cls, user: User) -> "UserEditForm":
        """Return the form filled with the user's details, under what the request submits."""
        return cls(
            data={
                "name": user.name,
                "email": user.email,
                "phone": user.phone,
                "role": user.role,
                "districts": sorted(user.district_ids),
                "firm": (user.firm.uscc or user.firm.name) if user.firm else "",
                "is_active": user.is_active,
            }
        )

    password = PasswordField(
        "新密码",
        validators=[Optional(), strong_password],
        description="留空则不修改密码；设置新密码同时解除登录锁定。",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "确认新密码",
        validators=[EqualTo("password", "两次输入的密码不一致")],
        render_kw={"autocomplete": "new-password"},
    )
