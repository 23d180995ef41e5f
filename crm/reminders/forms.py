"""The form of a new version of a reminder rule's settings."""

from datetime import date

from wtforms import BooleanField, DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from crm.core.forms import Form, strip
from crm.reminders import rules


class CheckboxesField(SelectMultipleField):
    """Several choices, one checkbox each."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RuleVersionForm(Form):
    """A rule's settings from an effective date: on or off, offsets, switches, recipients."""

    effective_on = DateField("生效日期", [DataRequired("请填写生效日期")])
    enabled = BooleanField("启用此规则")
    offsets = StringField("天数", [Length(max=200)], filters=[strip])
    overdue = BooleanField("逾期后再提醒一次")
    new_year = BooleanField("到期当年 1 月 1 日提醒")
    month_day = StringField("月-日", [Length(max=10)], filters=[strip])
    recipients = CheckboxesField("接收人")
    note = StringField(
        "说明", [DataRequired("请说明本次调整的依据"), Length(max=255)], filters=[strip]
    )

    def __init__(self, spec: rules.RuleSpec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.recipients.choices = [(code, rules.RECIPIENTS[code]) for code in spec.allowed]
        if spec.offsets_label:
            self.offsets.label.text = f"{spec.offsets_label}（以逗号分隔）"
        if spec.month_day_label:
            self.month_day.label.text = spec.month_day_label

    @classmethod
    def prefilled(cls, spec: rules.RuleSpec, settings: rules.RuleSettings, on: date, **kwargs):
        """Return the form showing `settings`, to take effect on `on`."""
        data = {
            "effective_on": on,
            "enabled": settings.enabled,
            "offsets": ", ".join(str(k) for k in settings.offsets),
            "overdue": settings.overdue,
            "new_year": settings.new_year,
            "month_day": settings.month_day or "",
            "recipients": list(settings.recipients),
        }
        return cls(spec, data=data, **kwargs)

    def fields_shown(self) -> list:
        """Return the fields of the rule's own settings, in order."""
        shown = [self.enabled]
        if self.spec.offsets_label:
            shown.append(self.offsets)
        if self.spec.overdue is not None:
            shown.append(self.overdue)
        if self.spec.new_year is not None:
            shown.append(self.new_year)
        if self.spec.month_day_label:
            shown.append(self.month_day)
        return shown

    def validate_offsets(self, field) -> None:
        """Read the offsets, for a rule that has them."""
        if self.spec.offsets_label:
            try:
                rules.parse_offsets(field.data)
            except ValueError as error:
                raise ValidationError(str(error)) from None

    def validate_month_day(self, field) -> None:
        """Read the month and day, for a rule that has one."""
        if self.spec.month_day_label:
            try:
                rules.parse_month_day(field.data)
            except ValueError as error:
                raise ValidationError(str(error)) from None

    def validate_recipients(self, field) -> None:
        """Ask for at least one recipient."""
        if not field.data:
            raise ValidationError("请至少选择一类接收人")

    def settings(self) -> rules.RuleSettings:
        """Return the settings entered (the form has validated)."""
        spec = self.spec
        return rules.RuleSettings(
            enabled=bool(self.enabled.data),
            offsets=rules.parse_offsets(self.offsets.data) if spec.offsets_label else (),
            recipients=tuple(r for r in spec.allowed if r in self.recipients.data),
            overdue=bool(self.overdue.data) and spec.overdue is not None,
            new_year=bool(self.new_year.data) and spec.new_year is not None,
            month_day=rules.parse_month_day(self.month_day.data) if spec.month_day_label else None,
        )


class EmailChoicesForm(Form):
    """The kinds of reminder a user wants by e-mail: one checkbox per rule that can reach them."""

    #: The choices are checked by `validate_kinds`, in Chinese, not by WTForms in English.
    kinds = CheckboxesField("以邮件接收的提醒", validate_choice=False)

    def __init__(self, specs=rules.RULES, **kwargs):
        super().__init__(**kwargs)
        self.kinds.choices = [(spec.code, spec.label) for spec in specs]

    def validate_kinds(self, field) -> None:
        """Refuse a kind that is not offered (a forged form)."""
        offered = {code for code, _ in field.choices}
        unknown = [code for code in field.data or () if code not in offered]
        if unknown:
            raise ValidationError(f"未知的提醒类别：{'、'.join(unknown)}")


class ReminderActionForm(Form):
    """Read, done, not done, or snooze to a date: the CSRF token, and the date for a snooze."""

    until = DateField("推迟至", [Optional()])
