"""Forms of the firm pages: the list's filters and a firm's registration data."""

from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    ValidationError,
)

from crm.core.forms import (
    Form,
    WanField,
    optional_int,
    optional_str,
    options,
    search_words,
    strip,
    with_current,
)
from crm.core.permissions import is_manager
from crm.firms import queries, rules
from crm.firms.uscc import check


class FirmFilterForm(Form):
    """The filters of the firm list (read from the query string)."""

    class Meta:
        csrf = False

    q = StringField("关键词", filters=[search_words])
    district = SelectField("所属县（市、区）", coerce=optional_int, validate_choice=False)
    park = SelectField("所在园区", coerce=optional_int, validate_choice=False)
    industry = SelectField("所属行业", coerce=optional_int, validate_choice=False)
    tech_field = SelectField("技术领域", coerce=optional_int, validate_choice=False)
    manager = SelectField("服务专员", coerce=optional_int, validate_choice=False)
    tier = SelectField("当前资质", coerce=optional_str, validate_choice=False)
    deleted = BooleanField("只看已删除")

    def __init__(self, formdata, choices: dict[str, list[tuple[int, str]]], **kwargs):
        super().__init__(formdata, **kwargs)
        self.district.choices = options(choices["districts"], "全部区县")
        self.park.choices = options(choices["parks"], "全部园区")
        self.industry.choices = options(choices["industries"], "全部行业")
        self.tech_field.choices = options(choices["tech_fields"], "全部技术领域")
        self.manager.choices = options(choices["managers"], "全部服务专员")
        self.tier.choices = options(((k, v[0]) for k, v in rules.TIERS.items()), "全部资质")

    def filters(self, sort: str | None) -> queries.FirmFilters:
        """Return the filters the list query applies."""
        return queries.FirmFilters(
            q=self.q.data or "",
            district_id=self.district.data,
            park_id=self.park.data,
            industry_id=self.industry.data,
            tech_field_id=self.tech_field.data,
            manager_id=self.manager.data,
            tier=self.tier.data if self.tier.data in rules.TIERS else None,
            deleted=bool(self.deleted.data),
            sort=queries.normalise_sort(sort),
        )


#: The filter form's choices when only its values are wanted (`list_filters`).
NO_CHOICES: dict[str, list[tuple[int, str]]] = {
    "districts": [],
    "parks": [],
    "industries": [],
    "tech_fields": [],
    "managers": [],
}


def list_filters(args) -> queries.FirmFilters:
    """Return the filters and sort the firm list applies for its query `args` (a MultiDict),
    read as the list page reads them; an export of the list reads them the same way."""
    return FirmFilterForm(args, NO_CHOICES).filters(args.get("sort"))


class FirmForm(Form):
    """Create or edit a firm's registration data."""

    name = StringField(
        "企业名称", [DataRequired("请填写企业名称"), Length(max=200)], filters=[strip]
    )
    uscc = StringField("统一社会信用代码", [Optional()], filters=[strip])
    accept_uscc_warning = BooleanField("我已核对，确认使用该代码")
    legal_representative = StringField("法定代表人", [Length(max=64)], filters=[strip])
    established_on = DateField("成立日期", [Optional()])
    registered_capital = WanField("注册资本（万元）")
    address = StringField("地址", [Length(max=255)], filters=[strip])
    district_id = SelectField("所属县（市、区）", coerce=optional_int)
    park_id = SelectField("所在园区", coerce=optional_int)
    industry_id = SelectField("所属行业", coerce=optional_int)
    tech_field_id = SelectField("技术领域", coerce=optional_int)
    is_above_scale = BooleanField("规上企业")
    is_incubator = BooleanField("孵化器")
    incubator_id = SelectField("在孵单位（所在孵化器）", coerce=optional_int)
    manager_id = SelectField("服务专员", coerce=optional_int)
    notes = TextAreaField("备注", [Length(max=5000)], filters=[strip])

    def __init__(self, user, firm=None, **kwargs):
        super().__init__(obj=firm, **kwargs)
        self.user = user
        self.firm = firm
        self.uscc_warning: str | None = None
        self.duplicate_firm = None
        self.duplicate_visible = False
        choices = queries.firm_choices_data()
        self.district_id.choices = options(choices["districts"], "（未填）")
        self.park_id.choices = options(choices["parks"], "（无）")
        self.industry_id.choices = options(choices["industries"], "（未填）")
        self.tech_field_id.choices = options(choices["tech_fields"], "（未填）")
        incubators = queries.incubator_choices(user, exclude_id=firm.id if firm else None)
        self.incubator_id.choices = options(
            with_current(incubators, firm and firm.incubator), "（无）"
        )
        managers = with_current(choices["managers"], firm and firm.manager)
        self.manager_id.choices = options(managers, "（未指定）")
        if firm is None and is_manager(user) and not self.is_submitted():
            self.manager_id.data = user.id

    def validate_uscc(self, field) -> None:
        """Normalise the code; refuse malformed or duplicate codes, and ask about the check."""
        result = check(field.data)
        field.data = result.code
        if result.error:
            raise ValidationError(result.error)
        owner = queries.uscc_owner(result.code, exclude_id=self.firm.id if self.firm else None)
        if owner is not None:
            self.duplicate_firm = owner
            self.duplicate_visible = queries.is_visible(self.user, owner.id)
            raise ValidationError("该统一社会信用代码已被其他企业使用")
        if result.warning:
            self.uscc_warning = result.warning
            confirmed = (
                self.firm is not None
                and self.firm.uscc == result.code
                and self.firm.uscc_check_accepted
            )
            if not (confirmed or self.accept_uscc_warning.data):
                raise ValidationError("校验位不符：请核对后勾选下方的确认框再保存")

    def validate(self, extra_validators=None) -> bool:
        """Also keep a manager's new firm within their own reach."""
        ok = super().validate(extra_validators)
        if is_manager(self.user) and not self.within_reach():
            self.form_errors.append(
                "您只能登记本人所负责区县的企业，或将服务专员设为本人；否则保存后您将无法查看该企业。"
            )
            ok = False
        return ok

    def within_reach(self) -> bool:
        """Tell whether the chosen district or manager keeps the firm visible to a manager."""
        return (
            self.manager_id.data == self.user.id or self.district_id.data in self.user.district_ids
        )

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        return {
            "name": self.name.data,
            "uscc": self.uscc.data or None,
            "uscc_check_accepted": bool(self.uscc.data and self.uscc_warning),
            "legal_representative": self.legal_representative.data or None,
            "established_on": self.established_on.data,
            "registered_capital": self.registered_capital.yuan,
            "address": self.address.data or None,
            "district_id": self.district_id.data,
            "park_id": self.park_id.data,
            "industry_id": self.industry_id.data,
            "tech_field_id": self.tech_field_id.data,
            "is_above_scale": bool(self.is_above_scale.data),
            "is_incubator": bool(self.is_incubator.data),
            "incubator_id": self.incubator_id.data,
            "manager_id": self.manager_id.data,
            "notes": self.notes.data or None,
        }
