"""Forms of the dashboard: its filters (read from the query string)."""

from datetime import date

from wtforms import SelectField

from crm.core.forms import Form, optional_int, options
from crm.dashboard.filters import DashboardFilters, years_offered


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
