"""The shared form kit: a Chinese FlaskForm, input filters, select options and amount fields.

Amounts are typed in 万元 (`WanField`) and handed to services in yuan. Every field of a `Form`
drops control characters from what is typed, so none reaches the database (PostgreSQL refuses a
NUL in text and answered 500; SQLite stored it silently).
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DecimalField, FieldList, FormField, IntegerField, SelectChoice
from wtforms.form import BaseForm
from wtforms.i18n import get_translations
from wtforms.validators import NumberRange, Optional, ValidationError

from crm.core.filters import WAN

CENT = Decimal("0.01")
#: The largest amount Numeric(16, 2) holds, in 万元.
MAX_WAN = Decimal("9999999999.99")
#: The earliest year a form accepts for yearly figures, plans and the like.
MIN_YEAR = 1990
#: The last year a year filter accepts; one past it only comes from a typing slip or a probe.
MAX_YEAR = 2100


#: The largest value of an integer column (ids, years, counts); a larger number, posted for an
#: id, answered 500 (PostgreSQL casts a parameter to the column's 32-bit type, SQLite binds no
#: more than 64 bits).
LARGEST_INTEGER = 2**31 - 1


def optional_int(value: Any) -> int | None:
    """Coerce a select value to an int, or None for the empty choice, junk or a huge number."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) <= LARGEST_INTEGER else None


def optional_year(value: Any) -> int | None:
    """Coerce a year select value to an int, or None when it is no year a list could show."""
    year = optional_int(value)
    return year if year is not None and MIN_YEAR <= year <= MAX_YEAR else None


def whole_numbers(values) -> list[int]:
    """Return the distinct positive whole numbers among posted values (ticked rows), in order."""
    numbers = {optional_int(value) for value in values}
    return sorted(number for number in numbers if number is not None and number > 0)


def optional_str(value: Any) -> str | None:
    """Coerce a select value to a string, or None for the empty choice."""
    return None if value in (None, "") else str(value)


def options(pairs, empty: str | None = None) -> list[SelectChoice]:
    """Return select options from (value, label) pairs, optionally after an empty choice."""
    head = [SelectChoice("", empty)] if empty is not None else []
    return [*head, *(SelectChoice(value, label) for value, label in pairs)]


def with_current(pairs: list[tuple[int, str]], current) -> list[tuple[int, str]]:
    """Keep the row's current choice selectable even when it left the list (inactive, hidden)."""
    if current is None or current.id in {value for value, _ in pairs}:
        return pairs
    return [*pairs, (current.id, current.name)]


#: C0 control characters but tab and line feed, and DEL: nothing a person types into a form.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def drop_control_characters(value: Any) -> Any:
    """Remove control characters (NUL included) from text; keep tabs and line breaks."""
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def strip(value: Any) -> Any:
    """Trim surrounding white space from text input."""
    return value.strip() if isinstance(value, str) else value


#: The most characters of a search a list looks for; no name or code is longer, and SQLite
#: refuses a LIKE pattern past 50,000 bytes (a 100,000-character search answered 500).
SEARCH_LENGTH = 100


def search_words(value: Any) -> Any:
    """Trim a search box's text and cut it to SEARCH_LENGTH characters."""
    return value.strip()[:SEARCH_LENGTH] if isinstance(value, str) else value


class Form(FlaskForm):
    """A FlaskForm with Chinese built-in messages, whose fields drop control characters.

    An input a field cannot read (a word in a number, 30 February) carries its message already,
    so the form's own `validate_<field>` checks do not run on it (they would meet None).
    """

    class Meta:
        def get_translations(self, form):
            return get_translations(["zh"])

        def bind_field(self, form, unbound_field, options):
            """Put the control-character filter ahead of the field's own filters."""
            if not issubclass(unbound_field.field_class, FieldList | FormField):
                filters = (drop_control_characters, *unbound_field.kwargs.get("filters", ()))
                options = {**options, "filters": filters}
            return unbound_field.bind(form=form, **options)

    def validate(self, extra_validators=None) -> bool:
        """Validate every field, running inline checks only on the fields that read their input."""
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for name in self._fields:
            inline = getattr(self.__class__, f"validate_{name}", None)
            if inline is not None:
                extra.setdefault(name, []).append(_on_read_input(inline))
        return BaseForm.validate(self, extra)


def _on_read_input(check):
    """Wrap an inline check so that it skips a field whose input could not be read."""

    def run(form, field):
        if not field.process_errors:
            check(form, field)

    return run


class WanField(DecimalField):
    """An amount typed in 万元 and kept by the model in yuan."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators or [Optional()], places=None, **kwargs)

    def process_data(self, value) -> None:
        """Show a stored yuan amount in 万元, exactly, so saving unchanged changes nothing."""
        if value is None:
            self.data = None
            return
        wan = Decimal(value) / WAN
        self.data = Decimal(format(wan.normalize(), "f"))

    def process_formdata(self, valuelist) -> None:
        """Accept thousands separators and full-width digits."""
        if valuelist:
            valuelist = [str(valuelist[0]).replace(",", "").replace("，", "").strip()]
            if valuelist[0] == "":
                self.data = None
                return
        super().process_formdata(valuelist)

    def pre_validate(self, form) -> None:
        """Refuse non-finite, negative, too precise or too large amounts."""
        if self.process_errors or self.data is None:
            return
        try:
            if not self.data.is_finite():
                raise ValidationError("请输入数字金额")
            if self.data < 0:
                raise ValidationError("金额不能为负数")
            if self.data > MAX_WAN:
                raise ValidationError("金额过大")
            if self.data.as_tuple().exponent < -6:
                raise ValidationError("金额最多保留 6 位小数（万元）")
        except InvalidOperation as exc:
            raise ValidationError("请输入数字金额") from exc

    @property
    def yuan(self) -> Decimal | None:
        """Return the amount in yuan, to the cent."""
        if self.data is None:
            return None
        return (self.data * WAN).quantize(CENT, rounding=ROUND_HALF_UP)


def count_field(label: str) -> IntegerField:
    """Return an optional non-negative whole-number field."""
    return IntegerField(
        label, [Optional(), NumberRange(0, 10_000_000, message="请输入 0 及以上的整数")]
    )
