"""Forms of the support ledger: entries on a firm's tab, the ledger filters, the subsidy rules."""

from datetime import date, timedelta
from typing import Any

from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from crm.core import clock
from crm.core.forms import (
    Form,
    optional_int,
    optional_str,
    optional_year,
    options,
    search_words,
    strip,
)
from crm.support import queries, rules
from crm.support.rules import ENTRY_STATUSES, RULE_EVENTS, SUPPORT_KINDS

AMOUNT_HELP = "单位为元，可输入 500000、500,000.00 或 50万"
#: The earliest year the ledger filter offers.
FIRST_YEAR = 2015


class AmountField(StringField):
    """An amount in yuan typed freely (separators, full-width digits, 万) and kept as Decimal."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("description", AMOUNT_HELP)
        super().__init__(label, validators, **kwargs)
        self.amount = None

    def process_data(self, value) -> None:
        """Show a stored amount with separators, so saving it unchanged changes nothing."""
        self.amount = value
        self.data = rules.format_yuan(value) if value is not None else ""

    def process_formdata(self, valuelist) -> None:
        """Read the typed text; an unreadable amount is reported by `pre_validate`."""
        super().process_formdata(valuelist)
        self.amount = None

    def pre_validate(self, form) -> None:
        """Parse the text into yuan, or say why it cannot be read."""
        try:
            self.amount = rules.parse_amount(self.data)
        except rules.AmountError as error:
            self.amount = None
            raise ValidationError(str(error)) from error


def _not_future(field_label: str):
    def check(form, field) -> None:
        if field.data and field.data > clock.today():
            raise ValidationError(f"{field_label}不能晚于今天")

    return check


class EntryForm(Form):
    """A support entry on a firm's ledger (a rule-made entry keeps its kind)."""

    kind = SelectField("扶持类型", choices=options(SUPPORT_KINDS.items()), default="other")
    title = StringField("事项", [DataRequired("请填写扶持事项"), Length(max=200)], filters=[strip])
    amount = AmountField("金额（元）")
    granted_on = DateField("日期", [InputRequired("请填写日期")], default=clock.today)
    document_number = StringField("文号", [Length(max=100)], filters=[strip])
    status = SelectField("状态", choices=options(ENTRY_STATUSES.items()), default="claimable")
    paid_on = DateField(
        "拨付日期", [Optional(), _not_future("拨付日期")], description="状态为已拨付时填写"
    )
    notes = TextAreaField("备注", [Length(max=2000)], filters=[strip])

    def __init__(self, *args, entry=None, **kwargs):
        super().__init__(*args, obj=entry, **kwargs)
        if entry is not None and entry.is_rule_made:
            del self.kind

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, then that a paid entry has its document number and date."""
        if not super().validate(extra_validators):
            return False
        problems = rules.status_problems(
            self.status.data, self.document_number.data, self.paid_on.data
        )
        for problem in problems:
            target = self.document_number if "文号" in problem else self.paid_on
            target.errors.append(problem)
        return not problems

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        values = {
            "title": self.title.data,
            "amount": self.amount.amount,
            "granted_on": self.granted_on.data,
            "document_number": self.document_number.data or None,
            "status": self.status.data,
            "paid_on": self.paid_on.data,
            "notes": self.notes.data or None,
        }
        if "kind" in self:
            values["kind"] = self.kind.data
        return values


class PayForm(Form):
    """The document number and date an entry was paid with."""

    document_number = StringField(
        "拨付文号", [DataRequired("请填写拨付文号"), Length(max=100)], filters=[strip]
    )
    paid_on = DateField(
        "拨付日期",
        [InputRequired("请填写拨付日期"), _not_future("拨付日期")],
        default=clock.today,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.paid_on.data is None and not self.is_submitted():
            self.paid_on.data = clock.today()


class LedgerFilterForm(Form):
    """The filters of the ledger list (read from the query string)."""

    class Meta:
        csrf = False

    q = StringField("关键词", filters=[search_words])
    year = SelectField("年度", coerce=optional_year, validate_choice=False)
    district = SelectField("所属县（市、区）", coerce=optional_int, validate_choice=False)
    kind = SelectField("扶持类型", coerce=optional_str, validate_choice=False)
    status = SelectField("状态", coerce=optional_str, validate_choice=False)

    def __init__(self, formdata, districts: list[tuple[int, str]], today: date, **kwargs):
        super().__init__(formdata, **kwargs)
        years = range(today.year + 1, FIRST_YEAR - 1, -1)
        self.year.choices = options(((y, f"{y} 年") for y in years), "全部年度")
        self.district.choices = options(districts, "全部区县")
        self.kind.choices = options(SUPPORT_KINDS.items(), "全部类型")
        self.status.choices = options(ENTRY_STATUSES.items(), "全部状态")

    def filters(self) -> queries.LedgerFilters:
        """Return the filters the ledger query applies."""
        return queries.LedgerFilters(
            q=self.q.data or "",
            year=self.year.data,
            district_id=self.district.data,
            kind=self.kind.data if self.kind.data in SUPPORT_KINDS else None,
            status=self.status.data if self.status.data in ENTRY_STATUSES else None,
        )


def ledger_filters(args) -> queries.LedgerFilters:
    """Return the filters the ledger applies for its query `args` (a MultiDict), read as the
    ledger page reads them; its export reads them the same way."""
    return LedgerFilterForm(args, [], clock.today()).filters()


class RuleForm(Form):
    """A subsidy rule version: the event, the support it gives and from when."""

    name = StringField("名称", [DataRequired("请填写规则名称"), Length(max=100)], filters=[strip])
    event = SelectField(
        "触发事件", [DataRequired("请选择触发事件")], choices=options(RULE_EVENTS.items(), "请选择")
    )
    kind = SelectField(
        "扶持类型",
        [DataRequired("请选择扶持类型")],
        choices=options(SUPPORT_KINDS.items(), "请选择"),
    )
    amount = AmountField(
        "金额（元）", description="单位为元，可输入 500000 或 50万；金额未定时留空"
    )
    effective_from = DateField("生效日期", [InputRequired("请填写生效日期")])
    basis = StringField("政策依据", [Length(max=255)], filters=[strip])
    is_active = BooleanField("启用", default=True)

    @classmethod
    def revising(cls, rule, today: date, **kwargs) -> "RuleForm":
        """Return the form of a new version of `rule`, its event fixed, prefilled from it."""
        form = cls(obj=rule, **kwargs)
        del form.event
        if not form.is_submitted():
            form.effective_from.data = max(today, rule.effective_from + timedelta(days=1))
        return form

    def values(self) -> dict[str, Any]:
        """Return the model attributes to store."""
        values = {
            "name": self.name.data,
            "kind": self.kind.data,
            "amount": self.amount.amount,
            "effective_from": self.effective_from.data,
            "basis": self.basis.data or None,
            "is_active": bool(self.is_active.data),
        }
        if "event" in self:
            values["event"] = self.event.data
        return values
