"""The form of the outbox page: a test message to an address."""

from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from crm.core.forms import Form, strip


class TestMailForm(Form):
    """Where the administrator's test message goes."""

    address = EmailField(
        "收件地址",
        filters=[strip],
        validators=[
            DataRequired("请填写收件地址"),
            Email("电子邮箱格式不正确", allow_smtputf8=False),
            Length(max=254, message="电子邮箱最长 254 个字符"),
        ],
        render_kw={"placeholder": "name@example.com"},
    )
