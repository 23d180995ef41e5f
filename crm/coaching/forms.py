"""Forms of the coaching pages."""

from typing import Any

from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from crm.coaching.models import ACTIVITY_KINDS, MEASURE_STATUSES
from crm.core import clock
from crm.core.forms import MIN_YEAR, Form, optional_int, options, strip, with_current
from crm.firms.queries import active_managers

TEXT_MAX = 5000


def _text(label: str, *validators) -> TextAreaField:
    return TextAreaField(label, [*validators, Length(max=TEXT_MAX)], filters=[strip])


PLAN_TEXTS = (
    "diagnosis",
    "goal",
    "liaison_leader",
    "county_contact",
    "firm_contact",
    "intermediary",
)


class NewPlanForm(Form):
    """The year of a new plan."""

    year = IntegerField("年度", [InputRequired("请填写年度")])

    def validate_year(self, field) -> None:
        """Keep the year plausible."""
        last = clock.today().year + 1
        if not MIN_YEAR <= field.data <= last:
            raise ValidationError(f"年度应在 {MIN_YEAR} 至 {last} 之间")


class PlanForm(Form):
    """A plan's diagnosis, goal and the people responsible."""

    diagnosis = _text("诊断")
    goal = _text("目标")
    liaison_leader = StringField("联系领导", [Length(max=64)], filters=[strip])
    manager_id = SelectField("服务专员", coerce=optional_int)
    county_contact = StringField("县区联系人", [Length(max=64)], filters=[strip])
    firm_contact = StringField("企业联系人", [Length(max=64)], filters=[strip])
    intermediary = StringField("中介服务机构", [Length(max=200)], filters=[strip])

    def __init__(self, plan, **kwargs):
        super().__init__(obj=plan, **kwargs)
        managers = with_current(active_managers(), plan.manager)
        self.manager_id.choices = options(managers, "（未指定）")

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        values: dict[str, Any] = {name: self[name].data or None for name in PLAN_TEXTS}
        values["manager_id"] = self.manager_id.data
        return values


class ClosePlanForm(Form):
    """The outcome recorded when a plan ends."""

    outcome = _text("成效", DataRequired("请填写方案成效"))


class MeasureForm(Form):
    """One measure of a plan."""

    title = StringField("措施", [DataRequired("请填写措施"), Length(max=255)], filters=[strip])
    owner = StringField("责任人", [Length(max=64)], filters=[strip])
    #: The user reminded of the measure; the text above stays the label of a unit or a person
    #: outside the system.
    owner_id = SelectField("提醒对象", coerce=optional_int)
    due_on = DateField("完成时限", [Optional()])
    status = SelectField("状态", choices=options(MEASURE_STATUSES.items()), default="planned")
    result = _text("结果")
    done_on = DateField("完成日期", [Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = getattr(kwargs.get("obj"), "owner_user", None)
        self.owner_id.choices = options(
            with_current(active_managers(), current), "（方案的服务专员）"
        )

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        return {
            "title": self.title.data,
            "owner": self.owner.data or None,
            "owner_id": self.owner_id.data,
            "due_on": self.due_on.data,
            "status": self.status.data,
            "result": self.result.data or None,
            "done_on": self.done_on.data,
        }


class MilestoneForm(Form):
    """A dated milestone of a plan."""

    title = StringField("节点", [DataRequired("请填写节点"), Length(max=255)], filters=[strip])
    due_on = DateField("计划日期", [InputRequired("请填写计划日期")])

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        return {"title": self.title.data, "due_on": self.due_on.data}


class ActivityForm(Form):
    """A visit or other contact with a firm."""

    kind = SelectField("方式", choices=options(ACTIVITY_KINDS.items()), default="visit")
    occurred_on = DateField("日期", [InputRequired("请填写日期")], default=clock.today)
    participants = StringField("参加人员", [Length(max=255)], filters=[strip])
    notes = _text("内容")
    follow_up = _text("后续事项")
    follow_up_due_on = DateField("后续事项时限", [Optional()])
    follow_up_owner_id = SelectField("后续事项提醒对象", coerce=optional_int)
    follow_up_done = BooleanField("后续事项已办结")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = getattr(kwargs.get("obj"), "follow_up_owner", None)
        self.follow_up_owner_id.choices = options(
            with_current(active_managers(), current), "（记录人）"
        )

    def validate_occurred_on(self, field) -> None:
        """Refuse dates in the future: the log records what happened."""
        if field.data and field.data > clock.today():
            raise ValidationError("日期不能晚于今天")

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        return {
            "kind": self.kind.data,
            "occurred_on": self.occurred_on.data,
            "participants": self.participants.data or None,
            "notes": self.notes.data or None,
            "follow_up": self.follow_up.data or None,
            "follow_up_due_on": self.follow_up_due_on.data,
            "follow_up_owner_id": self.follow_up_owner_id.data,
            "follow_up_done": bool(self.follow_up_done.data),
        }
