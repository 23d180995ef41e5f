"""Forms of the portal: the firm's requests, shaped like the staff forms, and the review."""

from typing import Any

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from crm.accounts.services import USERNAME_RULE
from crm.core.forms import Form, WanField, optional_int, options, strip
from crm.firms import queries as firm_queries
from crm.firms.record_forms import ContactForm, IPForm, YearForm
from crm.portal.rules import ACCEPTED_LABEL


class _Supporting:
    """The fields every request form adds: a word to the bureau and a supporting file."""

    note = TextAreaField("说明（选填）", [Length(max=2000)], filters=[strip])
    attachment = FileField(
        "证明材料（选填）",
        description=f"如营业执照、审计报告、专利证书；{ACCEPTED_LABEL} 文件",
    )


class ProfileRequestForm(_Supporting, Form):
    """The registration data a firm may propose changes to (the staff form's fields)."""

    name = StringField(
        "企业名称", [DataRequired("请填写企业名称"), Length(max=200)], filters=[strip]
    )
    legal_representative = StringField("法定代表人", [Length(max=64)], filters=[strip])
    established_on = DateField("成立日期", [Optional()])
    registered_capital = WanField("注册资本（万元）")
    address = StringField("地址", [Length(max=255)], filters=[strip])
    industry_id = SelectField("所属行业", coerce=optional_int)
    tech_field_id = SelectField("技术领域", coerce=optional_int)

    def __init__(self, firm, **kwargs):
        super().__init__(obj=firm, **kwargs)
        choices = firm_queries.firm_choices_data()
        self.industry_id.choices = options(choices["industries"], "（未填）")
        self.tech_field_id.choices = options(choices["tech_fields"], "（未填）")

    def values(self) -> dict[str, Any]:
        """Return the proposed model attributes."""
        return {
            "name": self.name.data,
            "legal_representative": self.legal_representative.data or None,
            "established_on": self.established_on.data,
            "registered_capital": self.registered_capital.yuan,
            "address": self.address.data or None,
            "industry_id": self.industry_id.data,
            "tech_field_id": self.tech_field_id.data,
        }


class ContactRequestForm(_Supporting, ContactForm):
    """A contact person, proposed."""


class YearRequestForm(_Supporting, YearForm):
    """A year's figures, proposed."""


class IPRequestForm(_Supporting, IPForm):
    """An IP item, proposed; which year's application used it is the bureau's to record."""

    used_in_year = None


class MeasureDoneForm(Form):
    """A firm reports a coaching measure done."""

    note = TextAreaField(
        "完成情况", [DataRequired("请简要说明完成情况"), Length(max=2000)], filters=[strip]
    )
    attachment = FileField("证明材料（选填）")


class DecisionForm(Form):
    """The bureau's decision on a request: the fields it approves and, for the rest, why not."""

    reason = TextAreaField("审核意见", [Length(max=2000)], filters=[strip])


class ButtonForm(Form):
    """A button that posts: taking back a request, marking a reminder done (CSRF only)."""


class YearUploadForm(Form):
    """A firm's workbook of yearly figures: the importer's blank template, filled in."""

    file = FileField(
        "年度数据表",
        [
            FileRequired("请选择要上传的文件"),
            FileAllowed(("xlsx", "xls", "ods", "csv"), "只接受 .xlsx、.xls、.ods 或 .csv 文件"),
        ],
        description="请使用下方的空白模板填写本企业的年度数据；金额单位以表头为准",
    )
    note = TextAreaField("说明（选填）", [Length(max=2000)], filters=[strip])


class InvitationForm(Form):
    """Who is invited and, optionally, where the link is e-mailed."""

    invitee = StringField(
        "受邀人",
        [DataRequired("请填写受邀人"), Length(max=64, message="受邀人不能超过 64 个字符")],
        filters=[strip],
        description="姓名或职务，如：张经理、财务负责人",
    )
    email = StringField(
        "电子邮箱（选填）",
        [Optional(), Length(max=254), Email("电子邮箱格式不正确")],
        filters=[strip],
        description="填写后系统把邀请链接发到该邮箱；不填则在下一页复制链接，通过微信等方式发给对方。",
    )


class AcceptForm(Form):
    """The account the invited person opens: a username, their name, phone and password."""

    username = StringField(
        "用户名",
        [DataRequired("请填写用户名"), Length(max=64, message="用户名过长")],
        filters=[strip],
        description=USERNAME_RULE + "，用于登录",
        render_kw={"autocomplete": "username"},
    )
    name = StringField(
        "姓名", [DataRequired("请填写姓名"), Length(max=64, message="姓名过长")], filters=[strip]
    )
    phone = StringField(
        "手机号码",
        [DataRequired("请填写手机号码"), Regexp(r"^1\d{10}$", message="请填写 11 位手机号码")],
        filters=[strip],
        render_kw={"autocomplete": "tel", "inputmode": "numeric"},
    )
    password = PasswordField(
        "密码",
        [DataRequired("请设置密码")],
        description="至少 8 个字符，须同时包含字母和数字；不能是常用密码，也不能包含用户名或姓名。",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "确认密码",
        [DataRequired("请再次输入密码"), EqualTo("password", message="两次输入的密码不一致")],
        render_kw={"autocomplete": "new-password"},
    )
