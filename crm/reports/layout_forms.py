"""Forms of the government layouts: a layout's parameters, and an administrator's columns."""

from dataclasses import dataclass
from datetime import date

from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from crm.core.forms import MAX_YEAR, MIN_YEAR, Form, optional_int, optional_str, options, strip
from crm.reports.layout_columns import PARAMS, Layout
from crm.reports.layout_sources import Params
from crm.support.rules import ENTRY_STATUSES

FILLER_LENGTH = 60


class YearField(IntegerField):
    """A four-digit year; what cannot be read as one says so in Chinese."""

    def process_formdata(self, valuelist) -> None:
        """Read the typed year, refusing words and fractions with a Chinese message."""
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("请输入四位数字的年度") from error


class ParamsForm(Form):
    """What a layout is downloaded for (read from the query string): the fields it asks for."""

    class Meta:
        csrf = False

    year = YearField(
        "年度",
        [
            InputRequired("请填写年度"),
            NumberRange(MIN_YEAR, MAX_YEAR, f"年度应在 {MIN_YEAR} 至 {MAX_YEAR} 之间"),
        ],
    )
    batch = SelectField("认定批次", coerce=optional_int, validate_choice=False)
    district = SelectField("所属县（市、区）", coerce=optional_int, validate_choice=False)
    status = SelectField("扶持状态", coerce=optional_str, validate_choice=False)
    filler = StringField(
        "填报单位",
        [Length(max=FILLER_LENGTH, message=f"填报单位最多 {FILLER_LENGTH} 个字")],
        filters=[strip],
        description="留空时表格中留出横线，打印后手写。",
    )

    def __init__(
        self,
        formdata,
        layout: Layout,
        *,
        today: date,
        batches: list[tuple[int, str]],
        districts: list[tuple[int, str]],
        **kwargs,
    ):
        super().__init__(formdata, **kwargs)
        self.layout = layout
        self._batch_ids = {value for value, _ in batches}
        self._district_ids = {value for value, _ in districts}
        for name in PARAMS:
            if name not in layout.params:
                delattr(self, name)
        if "year" in self:
            self.year.label.text = layout.year_label
        if "batch" in self:
            self.batch.choices = options(batches, "请选择")
        if formdata is None:  # the page before a download: this year, the latest batch
            if "year" in self:
                self.year.data = today.year
            if "batch" in self and batches:
                self.batch.data = batches[0][0]
        if "district" in self:
            self.district.choices = options(districts, "全市")
        if "status" in self:
            self.status.choices = options(ENTRY_STATUSES.items(), "全部状态")

    def validate_batch(self, field) -> None:
        """Require a batch the list offers."""
        if field.data is None:
            raise ValidationError("请选择认定批次")
        if field.data not in self._batch_ids:
            raise ValidationError("所选认定批次不存在")

    def validate_district(self, field) -> None:
        """Accept the whole city (empty) or one of its districts."""
        typed = bool(field.raw_data and field.raw_data[0])
        if (typed and field.data is None) or (
            field.data is not None and field.data not in self._district_ids
        ):
            raise ValidationError("请选择本市的县（市、区）")

    def validate_status(self, field) -> None:
        """Accept every entry or one status."""
        if field.data is not None and field.data not in ENTRY_STATUSES:
            raise ValidationError("请选择有效的扶持状态")

    def params(self) -> Params:
        """Return the parameters of the layout, as the sources read them."""
        return Params(
            year=self.year.data if "year" in self else None,
            batch_id=self.batch.data if "batch" in self else None,
            district_id=self.district.data if "district" in self else None,
            status=self.status.data if "status" in self else None,
        )


@dataclass
class ColumnChoice:
    """The administrator's columns as the edit page holds them: every column in order, the
    ticked ones, and ticked keys the layout does not have."""

    order: list[str]
    shown: set[str]
    unknown: list[str]

    @property
    def keys(self) -> list[str]:
        """Return the keys to save: the ticked columns in order, then any unknown ones (which
        the service refuses with their names)."""
        return [key for key in self.order if key in self.shown] + self.unknown


def column_choice(layout: Layout, order: list[str], shown: list[str]) -> ColumnChoice:
    """Return the posted order completed with the columns it left out, and the ticked keys.

    Keys the layout does not have are dropped from the order and reported when ticked.
    """
    keys = [c.key for c in layout.columns]
    ordered = [key for key in dict.fromkeys(order) if key in keys]
    ordered += [key for key in keys if key not in ordered]
    unknown = [key for key in dict.fromkeys(shown) if key not in keys]
    return ColumnChoice(ordered, {key for key in shown if key in keys}, unknown)


def moved(order: list[str], move: str) -> list[str] | None:
    """Return `order` with the row of an "up:key" or "down:key" move moved, or None when the
    move names no row or direction."""
    direction, _, key = move.partition(":")
    if direction not in ("up", "down") or key not in order:
        return None
    index = order.index(key)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(order):
        return list(order)
    result = list(order)
    result[index], result[other] = result[other], result[index]
    return result


class TemplateForm(Form):
    """The edit page's form; only its CSRF token is a field, the rows are read by the view
    (`column_choice`), since their number depends on the layout."""
