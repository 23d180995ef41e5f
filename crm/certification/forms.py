"""Forms of the certification pages: batches, the bulk result form, the cohort filters, changes."""

from typing import Any

from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from crm.certification import queries, rules
from crm.certification.models import CHANGE_KINDS
from crm.core import clock
from crm.core.forms import Form, optional_int, optional_str, optional_year, options, strip

YEAR_RANGE = NumberRange(2000, 2100, message="请填写 2000 至 2100 之间的年度")


class BatchForm(Form):
    """Create or edit a certification batch (domain.md §2.6)."""

    year = IntegerField("年度", [InputRequired("请填写年度"), YEAR_RANGE])
    name = StringField(
        "批次名称",
        [DataRequired("请填写批次名称"), Length(max=100)],
        filters=[strip],
        description="如：第一批",
    )
    opens_on = DateField("申报开始", [InputRequired("请填写申报开始日期")])
    closes_on = DateField("申报截止", [InputRequired("请填写申报截止日期")])
    city_recommend_by = DateField("市级推荐截止", [Optional()])
    notice_from = DateField("公示开始", [Optional()])
    notice_to = DateField("公示结束", [Optional()])
    filed_on = DateField("备案日期", [Optional()])
    notes = TextAreaField("备注", [Length(max=2000)], filters=[strip])

    def validate(self, extra_validators=None) -> bool:
        """Check each field, then the dates against each other (the pure rule)."""
        if not super().validate(extra_validators):
            return False
        problems = rules.batch_problems(
            self.year.data,
            self.opens_on.data,
            self.closes_on.data,
            self.notice_from.data,
            self.notice_to.data,
        )
        for name, message in problems.items():
            self[name].errors = [*self[name].errors, message]
        return not problems

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        return {
            "year": self.year.data,
            "name": self.name.data,
            "opens_on": self.opens_on.data,
            "closes_on": self.closes_on.data,
            "city_recommend_by": self.city_recommend_by.data,
            "notice_from": self.notice_from.data,
            "notice_to": self.notice_to.data,
            "filed_on": self.filed_on.data,
            "notes": self.notes.data or None,
        }


class ResultsForm(Form):
    """The dates shared by every line of a batch's result form."""

    result_on = DateField(
        "结果日期",
        [InputRequired("请填写结果日期")],
        default=clock.today,
        description="转入“评审/公示中”“未通过”或撤回的日期",
    )
    issued_on = DateField(
        "统一发证日期", [Optional()], description="同批证书发证日期相同时填写，单行可另填"
    )

    def validate_result_on(self, field) -> None:
        """Refuse a date in the future: a result records what happened."""
        if field.data and field.data > clock.today():
            raise ValidationError("结果日期不能晚于今天")


class ResultLineForm(Form):
    """One pending application's line of the result form."""

    class Meta:
        csrf = False

    #: Left empty (or absent, for a line added since the page was loaded): not entered now.
    result = SelectField(
        "结果",
        choices=options(rules.RESULTS.items(), "（暂不录入）"),
        coerce=optional_str,
        validate_choice=False,
    )
    certificate_number = StringField("证书编号", [Length(max=64)], filters=[strip])
    issued_on = DateField("发证日期", [Optional()])
    reason = StringField("原因", [Length(max=500)], filters=[strip])

    def __init__(self, application, **kwargs):
        super().__init__(prefix=f"app-{application.id}", **kwargs)
        self.application = application

    def validate_result(self, field) -> None:
        """Refuse a result the form does not offer."""
        if field.data is not None and field.data not in rules.RESULTS:
            raise ValidationError("请选择有效的结果")


class CohortFilterForm(Form):
    """The filters of the re-certification cohort page (read from the query string)."""

    class Meta:
        csrf = False

    year = SelectField("到期年度", coerce=optional_year, validate_choice=False)
    district = SelectField("所属县（市、区）", coerce=optional_int, validate_choice=False)
    manager = SelectField("服务专员", coerce=optional_int, validate_choice=False)

    def __init__(self, formdata, years: list[int], choices: dict[str, list], **kwargs):
        super().__init__(formdata, **kwargs)
        this_year = clock.today().year
        shown = sorted({this_year, *years}, reverse=True)
        self.year.choices = options((y, f"{y} 年") for y in shown)
        self.district.choices = options(choices["districts"], "全部区县")
        self.manager.choices = options(choices["managers"], "全部服务专员")
        if self.year.data is None:
            self.year.data = this_year

    def filters(self) -> queries.CohortFilters:
        """Return the filters the cohort query applies."""
        return queries.CohortFilters(self.year.data, self.district.data, self.manager.data)


def cohort_filters(args) -> queries.CohortFilters:
    """Return the filters the cohort page applies for its query `args` (a MultiDict), read as
    the page reads them; its export reads them the same way."""
    return CohortFilterForm(args, [], {"districts": [], "managers": []}).filters()


class RenameForm(Form):
    """A firm's change of name and the day it took effect."""

    name = StringField("新名称", [DataRequired("请填写新名称"), Length(max=200)], filters=[strip])
    changed_on = DateField("变更日期", [InputRequired("请填写变更日期")], default=clock.today)

    def __init__(self, **kwargs):
        super().__init__(prefix="rename", **kwargs)


class ChangeForm(Form):
    """A merger or change of business a certified firm must report."""

    kind = SelectField(
        "变更类型", choices=options((k, v) for k, v in CHANGE_KINDS.items() if k != "name")
    )
    changed_on = DateField("变更日期", [InputRequired("请填写变更日期")], default=clock.today)
    description = TextAreaField(
        "变更内容", [DataRequired("请填写变更内容"), Length(max=2000)], filters=[strip]
    )

    def __init__(self, **kwargs):
        super().__init__(prefix="change", **kwargs)


class ReportedForm(Form):
    """That the firm reported a change: when and under which document."""

    reported_on = DateField("报告日期", [InputRequired("请填写报告日期")], default=clock.today)
    document_number = StringField("文号", [Length(max=100)], filters=[strip])

    def __init__(self, report_id: int, **kwargs):
        super().__init__(prefix=f"report-{report_id}", **kwargs)


class CertificateForm(Form):
    """An administrator's entry of a high-tech certificate, resting on a document."""

    issued_on = DateField("发证日期", [InputRequired("请填写发证日期")])
    number = StringField("证书编号", [Length(max=64)], filters=[strip])
    document = StringField(
        "依据文件",
        [DataRequired("请填写依据文件（如认定公告文号或证书扫描件名称）"), Length(max=255)],
        filters=[strip],
    )

    def validate_issued_on(self, field) -> None:
        """Refuse a future issue date."""
        if field.data > clock.today():
            raise ValidationError("发证日期不能晚于今天")


class DutyFilterForm(Form):
    """The filters of the yearly reports page (read from the query string)."""

    class Meta:
        csrf = False

    year = SelectField("报告年度", coerce=optional_int, validate_choice=False)
    kind = SelectField("报表", choices=options(rules.DUTY_KINDS.items()), validate_choice=False)
    status = SelectField(
        "状态",
        coerce=optional_str,
        choices=options(rules.DUTY_STATUSES.items(), "全部状态"),
        validate_choice=False,
    )
    district = SelectField("所属县（市、区）", coerce=optional_int, validate_choice=False)
    manager = SelectField("服务专员", coerce=optional_int, validate_choice=False)

    def __init__(self, formdata, years: list[int], choices: dict[str, list], **kwargs):
        super().__init__(formdata, **kwargs)
        self.year.choices = options((y, f"{y} 年度") for y in years)
        self.district.choices = options(choices["districts"], "全部区县")
        self.manager.choices = options(choices["managers"], "全部服务专员")
        if self.year.data not in years:
            self.year.data = years[0]
        if self.kind.data not in rules.DUTY_KINDS:
            self.kind.data = "annual_report"
        if self.status.data not in rules.DUTY_STATUSES:
            self.status.data = None

    def query(self) -> dict[str, Any]:
        """Return the chosen filters as query-string values, to come back to the same list."""
        values = {
            "year": self.year.data,
            "kind": self.kind.data,
            "status": self.status.data,
            "district": self.district.data,
            "manager": self.manager.data,
        }
        return {name: value for name, value in values.items() if value}


class FiledForm(Form):
    """The day one report, or the reports ticked in a list, were filed on the national system."""

    filed_on = DateField("填报日期", [InputRequired("请填写填报日期")], default=clock.today)

    def validate_filed_on(self, field) -> None:
        """Refuse a future date: a filing records what happened."""
        if field.data and field.data > clock.today():
            raise ValidationError("填报日期不能晚于今天")


class DeadlineForm(Form):
    """An administrator's deadline for a report of a year."""

    due_on = DateField("填报截止", [InputRequired("请填写填报截止日期")])
