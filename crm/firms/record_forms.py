"""Forms of the rows on a firm's tabs: yearly figures, IP items, contacts, qualifications."""

from typing import Any

from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from crm.core import clock
from crm.core.forms import MIN_YEAR, Form, WanField, count_field, optional_str, options, strip
from crm.firms import queries, rules

YEAR_AMOUNTS = (
    "total_revenue",
    "sales_revenue",
    "hightech_revenue",
    "rd_expense",
    "domestic_rd_expense",
    "total_costs",
    "total_assets",
    "total_liabilities",
)
YEAR_COUNTS = ("total_staff", "tech_staff", "transformed_results")


class YearForm(Form):
    """A firm's figures for one year."""

    year = IntegerField("年度", [InputRequired("请填写年度")])
    total_revenue = WanField("总收入（万元）")
    sales_revenue = WanField("销售收入（万元）")
    hightech_revenue = WanField("高新技术产品（服务）收入（万元）")
    rd_expense = WanField("研发费用（万元）")
    domestic_rd_expense = WanField("境内研发费用（万元）")
    total_costs = WanField("成本费用总额（万元）")
    total_assets = WanField("资产总额（万元）")
    total_liabilities = WanField("负债总额（万元）")
    total_staff = count_field("职工总数")
    tech_staff = count_field("科技人员数")
    transformed_results = count_field("科技成果转化数")

    def __init__(self, firm, row=None, **kwargs):
        super().__init__(obj=row, **kwargs)
        self.firm = firm
        self.row = row

    def validate_year(self, field) -> None:
        """Keep the year plausible and unique for the firm."""
        last = clock.today().year + 1
        if not MIN_YEAR <= field.data <= last:
            raise ValidationError(f"年度应在 {MIN_YEAR} 至 {last} 之间")
        if queries.year_taken(self.firm.id, field.data, self.row.id if self.row else None):
            raise ValidationError(f"{field.data} 年度的数据已存在，请直接编辑该年度")

    def validate(self, extra_validators=None) -> bool:
        """Check the figures against each other."""
        ok = super().validate(extra_validators)
        for part, whole, message in rules.YEAR_PARTS:
            part, whole = self[part], self[whole]
            if part.errors or whole.errors or part.data is None or whole.data is None:
                continue
            if part.data > whole.data:
                part.errors.append(message)
                ok = False
        return ok

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store (amounts in yuan)."""
        values: dict[str, Any] = {"year": self.year.data}
        values.update({name: self[name].yuan for name in YEAR_AMOUNTS})
        values.update({name: self[name].data for name in YEAR_COUNTS})
        return values


class IPForm(Form):
    """An IP item."""

    kind = SelectField(
        "类型",
        choices=options((k, f"{label}（{cls} 类）") for k, (label, cls) in rules.IP_KINDS.items()),
    )
    number = StringField("授权号/登记号", [Length(max=64)], filters=[strip])
    title = StringField("名称", [DataRequired("请填写名称"), Length(max=255)], filters=[strip])
    granted_on = DateField("授权日期", [Optional()])
    status = SelectField("状态", choices=options(rules.IP_STATUSES.items()), default="valid")
    acquisition = SelectField(
        "获得方式", choices=options(rules.ACQUISITION_MODES.items()), default="own"
    )
    used_in_year = IntegerField(
        "已用于申报年度",
        [Optional(), NumberRange(MIN_YEAR, 2100, message="请填写有效的年度")],
    )

    def __init__(self, firm, row=None, **kwargs):
        super().__init__(obj=row, **kwargs)
        self.firm = firm
        self.row = row

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store (of the fields the form has: a subclass may
        leave one out)."""
        values = {
            "kind": self.kind.data,
            "number": self.number.data or None,
            "title": self.title.data,
            "granted_on": self.granted_on.data,
            "status": self.status.data,
            "acquisition": self.acquisition.data,
        }
        if self.used_in_year is not None:
            values["used_in_year"] = self.used_in_year.data
        return values


class ContactForm(Form):
    """A contact person."""

    name = StringField("姓名", [DataRequired("请填写姓名"), Length(max=64)], filters=[strip])
    role = SelectField(
        "职务",
        coerce=optional_str,
        choices=options(((r, r) for r in rules.CONTACT_ROLES), "（未填）"),
    )
    phone = StringField("电话", [Length(max=32)], filters=[strip])
    email = StringField(
        "电子邮箱",
        [Optional(), Email("电子邮箱格式不正确", check_deliverability=False), Length(max=254)],
        filters=[strip],
    )

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        return {
            "name": self.name.data,
            "role": self.role.data,
            "phone": self.phone.data or None,
            "email": self.email.data or None,
        }


class QualificationForm(Form):
    """A tier held for a year; the high-tech certificate is a dated record of its own."""

    tier = SelectField(
        "资质",
        choices=options((k, v[0]) for k, v in rules.QUALIFICATION_TIERS.items()),
    )
    year = IntegerField("年度", [InputRequired("请填写年度")])
    number = StringField("证书/登记编号", [Length(max=64)], filters=[strip])
    source_document = StringField("依据文件", [Length(max=255)], filters=[strip])

    def __init__(self, firm, **kwargs):
        super().__init__(**kwargs)
        self.firm = firm

    def validate_year(self, field) -> None:
        """Keep the year plausible and the tier unique for the year."""
        last = clock.today().year + 1
        if not MIN_YEAR <= field.data <= last:
            raise ValidationError(f"年度应在 {MIN_YEAR} 至 {last} 之间")
        if self.tier.data in rules.QUALIFICATION_TIERS and queries.qualification_taken(
            self.firm.id, self.tier.data, field.data
        ):
            label = rules.TIERS[self.tier.data][0]
            raise ValidationError(f"该企业 {field.data} 年度的“{label}”资质已登记")

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        return {
            "tier": self.tier.data,
            "year": self.year.data,
            "number": self.number.data or None,
            "source_document": self.source_document.data or None,
        }
