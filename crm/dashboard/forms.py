"""Forms of the dashboard: its filters (read from the query string) and the targets' editing."""

from datetime import date
from decimal import Decimal, InvalidOperation

from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from crm.core.forms import Form, optional_int, options, strip
from crm.dashboard.filters import DashboardFilters, years_offered
from crm.dashboard.targets import INDICATORS

#: The largest value Numeric(16, 2) holds.
MAX_VALUE = Decimal("99999999999999.99")
#: The years a target may be set for.
TARGET_YEARS = NumberRange(2000, 2100, message="请填写 2000 至 2100 之间的年度")
#: The value of the 全市 choice of the targets' district select (a district id is never 0).
CITY = 0


class DashboardFilterForm(Form):
    """The dashboard's filters; it shows the values `DashboardFilters` read, so a year it
    refused shows as the year actually used."""

    class Meta:
        csrf = False

    year = SelectField("年度", coerce=optional_int, validate_choice=False)
    district_id = SelectField("县（市、区）", coerce=optional_int, validate_choice=False)
    park_id = SelectField("园区", coerce=optional_int, validate_choice=False)
    tech_field_id = SelectField("技术领域", coerce=optional_int, validate_choice=False)
    manager_id = SelectField("服务专员", coerce=optional_int, validate_choice=False)

    def __init__(
        self,
        filters: DashboardFilters,
        choices: dict[str, list[tuple[int, str]]],
        today: date,
        **kwargs,
    ):
        super().__init__(formdata=None, data=filters.args(), **kwargs)
        self.year.choices = options((y, f"{y} 年") for y in years_offered(today))
        self.district_id.choices = options(choices["districts"], "全部区县")
        self.park_id.choices = options(choices["parks"], "全部园区")
        self.tech_field_id.choices = options(choices["tech_fields"], "全部技术领域")
        self.manager_id.choices = options(choices["managers"], "全部服务专员")


class DecimalText(StringField):
    """A number typed as text: thousands separators and full-width commas are accepted."""

    def process_formdata(self, valuelist) -> None:
        """Keep the typed text; `validate_value` of the form reads it."""
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = self.data.replace(",", "").replace("，", "").strip()


class TargetForm(Form):
    """Set one target (an indicator's value for a year, city-wide or a district), or clear it."""

    year = IntegerField("年度", [InputRequired("请填写年度"), TARGET_YEARS])
    indicator = SelectField("指标", [InputRequired("请选择指标")])
    district = SelectField("范围", coerce=optional_int, validate_choice=False)
    value = DecimalText("目标值", filters=[strip])
    action = StringField()

    def __init__(self, districts: list[tuple[int, str]], **kwargs):
        super().__init__(**kwargs)
        self.indicator.choices = options(
            (key, f"{ind.name}（{ind.unit}）") for key, ind in INDICATORS.items()
        )
        self.district.choices = options([(CITY, "全市"), *districts])
        self._district_ids = {district_id for district_id, _ in districts}

    @property
    def clearing(self) -> bool:
        """Tell whether the user asked to clear the target rather than set it."""
        return self.action.data == "clear"

    def validate_indicator(self, field) -> None:
        """Refuse an indicator the dashboard does not know."""
        if field.data not in INDICATORS:
            raise ValidationError("请选择指标")

    def validate_district(self, field) -> None:
        """Refuse a district that is not in the reference data."""
        if field.data is None or (field.data != CITY and field.data not in self._district_ids):
            raise ValidationError("请选择全市或一个县（市、区）")

    def validate_value(self, field) -> None:
        """Read a number of at most two decimals, 0 or more; clearing needs none."""
        if self.clearing:
            return
        if not field.data:
            raise ValidationError("请填写目标值")
        try:
            value = Decimal(field.data)
            valid = value.is_finite()
        except InvalidOperation:
            valid = False
        if not valid:
            raise ValidationError("目标值须为数字")
        if value < 0:
            raise ValidationError("目标值不能为负数")
        if value > MAX_VALUE:
            raise ValidationError("目标值过大")
        if value.as_tuple().exponent < -2:
            raise ValidationError("目标值最多保留两位小数")

    @property
    def district_id(self) -> int | None:
        """Return the district of the target, None for the whole city."""
        return None if self.district.data == CITY else self.district.data

    @property
    def decimal(self) -> Decimal | None:
        """Return the value to store, None when clearing."""
        return None if self.clearing else Decimal(self.value.data)


class SeedForm(Form):
    """Seed placeholder HTE targets from the doubling plan, counted from a base year."""

    base_year = IntegerField("基准年度", [InputRequired("请填写基准年度"), TARGET_YEARS])

    def __init__(self, today: date, **kwargs):
        super().__init__(**kwargs)
        self.today = today

    def validate_base_year(self, field) -> None:
        """Refuse a base year in the future: no certificate count is known for it."""
        if field.data > self.today.year:
            raise ValidationError("基准年度不能晚于今年")
