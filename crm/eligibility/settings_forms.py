"""The form of a new eligibility-settings version, and the readable description of a version.

One table, `SPECS`, lists every setting with its label and how it is entered (percentages as
percent numbers, money in 万元, bands as rows); the form, its checks and the description of the
version in force are all built from it, so a setting cannot be shown but not edited.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from wtforms import DateField, DecimalField, FieldList, FormField, IntegerField, StringField
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.core.filters import WAN
from crm.core.forms import Form, strip
from crm.eligibility.settings import Settings

HUNDRED = Decimal(100)
REQUIRED = "请填写"
#: The fixed structure of the innovation score (国科发火〔2016〕195号): indicator maxima.
IP_TOTAL, TRANSFORMATION_TOTAL, RD_TOTAL, GROWTH_EACH = 30, 30, 20, 10
SECTIONS = {"hte": "高新技术企业认定", "tech_sme": "科技型中小企业评价"}


@dataclass(frozen=True)
class Spec:
    """One setting: where it lives, its label, how it is entered and the most points it may give."""

    section: str
    name: str
    label: str
    #: int, percent, wan, pair, bands, steps or rd_tiers.
    kind: str
    #: For bands and steps: how the threshold is entered, `percent` or a unit of count.
    unit: str = ""
    maximum: int | None = None

    @property
    def key(self) -> str:
        """Return the form field name."""
        return f"{self.section}_{self.name}"


SPECS = (
    Spec("hte", "min_days_registered", "注册成立满（天）", "int"),
    Spec("hte", "tech_staff_min", "科技人员占职工总数比例不低于", "percent"),
    Spec("hte", "rd_years", "研发费用归集年数", "int"),
    Spec("hte", "rd_tiers", "研发费用占销售收入比例（按最近一年销售收入分档）", "rd_tiers"),
    Spec("hte", "domestic_rd_min", "境内研发费用占全部研发费用比例不低于", "percent"),
    Spec("hte", "hightech_revenue_min", "高新技术产品（服务）收入占总收入比例不低于", "percent"),
    Spec("hte", "pass_score", "创新能力评价通过分数（不低于）", "int", maximum=100),
    Spec("hte", "ip_class1_band", "知识产权数量：拥有Ⅰ类知识产权", "pair", maximum=IP_TOTAL),
    Spec("hte", "ip_class2_bands", "知识产权数量：仅有Ⅱ类知识产权", "bands", "项", IP_TOTAL),
    Spec("hte", "ip_advancement_max", "技术的先进程度满分", "int", maximum=IP_TOTAL),
    Spec("hte", "ip_core_support_max", "核心支持作用满分", "int", maximum=IP_TOTAL),
    Spec("hte", "ip_acquisition_own", "获得方式：有自主研发", "pair", maximum=IP_TOTAL),
    Spec("hte", "ip_acquisition_other", "获得方式：仅受让、受赠、并购", "pair", maximum=IP_TOTAL),
    Spec("hte", "ip_standards_max", "参与编制标准加分上限", "int", maximum=IP_TOTAL),
    Spec(
        "hte",
        "transformation_bands",
        "科技成果转化（年均转化数）",
        "bands",
        "项",
        TRANSFORMATION_TOTAL,
    ),
    Spec("hte", "rd_rules_max", "研发组织管理制度及核算体系满分", "int", maximum=RD_TOTAL),
    Spec("hte", "rd_institution_max", "研发机构及产学研合作满分", "int", maximum=RD_TOTAL),
    Spec("hte", "rd_incentives_max", "成果转化激励及创新创业平台满分", "int", maximum=RD_TOTAL),
    Spec("hte", "rd_talent_max", "科技人员培养及人才引进满分", "int", maximum=RD_TOTAL),
    Spec(
        "hte",
        "growth_bands",
        "成长性（净资产、销售收入增长率，各项）",
        "bands",
        "percent",
        GROWTH_EACH,
    ),
    Spec(
        "hte", "growth_positive", "成长性：增长率大于 0 但低于最低档", "pair", maximum=GROWTH_EACH
    ),
    Spec("tech_sme", "max_staff", "职工总数不超过（人）", "int"),
    Spec("tech_sme", "max_sales", "年销售收入不超过", "wan"),
    Spec("tech_sme", "max_assets", "资产总额不超过", "wan"),
    Spec("tech_sme", "pass_score", "评价通过分数（不低于）", "int", maximum=100),
    Spec("tech_sme", "tech_staff_steps", "科技人员占比得分", "steps", "percent", 20),
    Spec("tech_sme", "rd_sales_steps", "研发费用占销售收入比例得分", "steps", "percent", 50),
    Spec("tech_sme", "rd_costs_steps", "研发费用占成本费用总额比例得分", "steps", "percent", 50),
    Spec("tech_sme", "ip_class1_points", "拥有Ⅰ类知识产权得分", "int", maximum=30),
    Spec("tech_sme", "ip_class2_steps", "仅有Ⅱ类知识产权得分", "steps", "项", 30),
)


def plain(value: Decimal) -> Decimal:
    """Return a decimal without exponent or trailing zeros (5.00 → 5, 100 → 100)."""
    return Decimal(format(value.normalize(), "f"))


def text(value: Decimal) -> str:
    """Show a decimal with thousands separators and no trailing zeros."""
    return f"{plain(value):,}"


def percent_field(label: str = "") -> DecimalField:
    """Return a field for a ratio entered as a percent number, 0 to 100."""
    return DecimalField(
        label,
        [InputRequired(REQUIRED), NumberRange(0, 100, "比例应在 0%%–100%% 之间")],
        places=None,
    )


def points_field(label: str = "") -> IntegerField:
    """Return a field of whole points, 0 or more."""
    return IntegerField(label, [InputRequired(REQUIRED), NumberRange(min=0, message="不能为负数")])


class PairForm(PlainForm):
    """A range of points, low to high."""

    low = points_field("最低分")
    high = points_field("最高分")


class PercentBandForm(PlainForm):
    """A band whose threshold is a ratio, entered in percent."""

    at_least = percent_field("不低于（%）")
    low = points_field("最低分")
    high = points_field("最高分")


class CountBandForm(PlainForm):
    """A band whose threshold is a count."""

    at_least = DecimalField(
        "不少于", [InputRequired(REQUIRED), NumberRange(min=0, message="不能为负数")], places=None
    )
    low = points_field("最低分")
    high = points_field("最高分")


class PercentStepForm(PlainForm):
    """A step whose threshold is a ratio, entered in percent."""

    at_least = percent_field("不低于（%）")
    points = points_field("得分")


class CountStepForm(PlainForm):
    """A step whose threshold is a count."""

    at_least = DecimalField(
        "不少于", [InputRequired(REQUIRED), NumberRange(min=0, message="不能为负数")], places=None
    )
    points = points_field("得分")


class RdTierForm(PlainForm):
    """An R&D-intensity tier: firms with sales up to `max_sales` (万元; empty: no limit)."""

    max_sales = DecimalField(
        "最近一年销售收入不超过（万元）",
        [Optional(), NumberRange(min=0, message="不能为负数")],
        places=None,
    )
    min_ratio = percent_field("研发费用占比不低于（%）")


def unbound(spec: Spec):
    """Return the form field entering `spec`."""
    if spec.kind == "int":
        return IntegerField(spec.label, [InputRequired(REQUIRED), NumberRange(0, 100_000)])
    if spec.kind == "percent":
        return percent_field(spec.label + "（%）")
    if spec.kind == "wan":
        return DecimalField(
            spec.label + "（万元）",
            [InputRequired(REQUIRED), NumberRange(min=0, message="不能为负数")],
            places=None,
        )
    if spec.kind == "pair":
        return FormField(PairForm, spec.label)
    rows = {
        ("bands", True): PercentBandForm,
        ("bands", False): CountBandForm,
        ("steps", True): PercentStepForm,
        ("steps", False): CountStepForm,
        ("rd_tiers", False): RdTierForm,
    }[(spec.kind, spec.unit == "percent")]
    return FieldList(FormField(rows), spec.label, min_entries=1)


class SettingsForm(Form):
    """A new version of the eligibility settings, prefilled from the version in force."""

    effective_on = DateField("施行日期", [DataRequired("请填写施行日期")])
    note = StringField(
        "说明", [DataRequired("请说明本次调整的依据"), Length(max=255)], filters=[strip]
    )

    @classmethod
    def prefilled(cls, settings: Settings, effective_on: date, **kwargs) -> "SettingsForm":
        """Return the form showing `settings` in the units people enter."""
        data = {"effective_on": effective_on}
        for spec in SPECS:
            data[spec.key] = to_form(spec, getattr(getattr(settings, spec.section), spec.name))
        return cls(data=data, **kwargs)

    def specs(self, section: str) -> list[tuple[Spec, Any]]:
        """Return the settings of a section with their bound fields."""
        return [(s, self[s.key]) for s in SPECS if s.section == section]

    def settings(self) -> Settings:
        """Return the settings entered (call after validation)."""
        data: dict[str, dict[str, Any]] = {"hte": {}, "tech_sme": {}}
        for spec in SPECS:
            data[spec.section][spec.name] = from_form(spec, self[spec.key].data)
        return Settings.from_dict(data)

    def validate(self, extra_validators=None) -> bool:
        """Also check bands, ranges and the indicator maxima."""
        ok = super().validate(extra_validators)
        if not ok:
            return False
        for spec in SPECS:
            check(spec, self[spec.key])
        check_totals(self)
        return not has_errors(self)


for _spec in SPECS:
    setattr(SettingsForm, _spec.key, unbound(_spec))


def to_form(spec: Spec, value: Any) -> Any:
    """Return a stored setting as the form shows it."""
    percent = spec.kind == "percent" or spec.unit == "percent"
    if spec.kind == "int":
        return value
    if spec.kind == "percent":
        return plain(value * HUNDRED)
    if spec.kind == "wan":
        return plain(value / WAN)
    if spec.kind == "pair":
        return {"low": value[0], "high": value[1]}
    if spec.kind == "rd_tiers":
        return [
            {
                "max_sales": None if t.max_sales is None else plain(t.max_sales / WAN),
                "min_ratio": plain(t.min_ratio * HUNDRED),
            }
            for t in value
        ]
    rows = []
    for item in value:
        row = dict(vars(item))
        row["at_least"] = plain(item.at_least * HUNDRED) if percent else plain(item.at_least)
        rows.append(row)
    return rows


def from_form(spec: Spec, value: Any) -> Any:
    """Return an entered setting as `Settings.from_dict` reads it."""
    if spec.kind == "int":
        return value
    if spec.kind == "percent":
        return str(value / HUNDRED)
    if spec.kind == "wan":
        return str(value * WAN)
    if spec.kind == "pair":
        return [value["low"], value["high"]]
    if spec.kind == "rd_tiers":
        return [
            {
                "max_sales": None if row["max_sales"] is None else str(row["max_sales"] * WAN),
                "min_ratio": str(row["min_ratio"] / HUNDRED),
            }
            for row in value
        ]
    scale = HUNDRED if spec.unit == "percent" else 1
    return [{**row, "at_least": str(row["at_least"] / scale)} for row in value]


def has_errors(fields) -> bool:
    """Tell whether any input field has errors (the forms' own `errors` are cached by then)."""
    for f in fields:
        if f.type in ("FormField", "FieldList") and has_errors(f):
            return True
        if f.type not in ("FormField", "FieldList") and f.errors:
            return True
    return False


def fail(field, message: str) -> None:
    """Attach a message to a field (validation has run, so its errors are a list)."""
    field.errors = [*field.errors, message]


def check(spec: Spec, field) -> None:
    """Check one setting: pairs and bands low ≤ high, thresholds descending, points in maxima."""
    if spec.kind == "pair":
        check_range(spec, field.form.low, field.form.high)
    elif spec.kind == "rd_tiers":
        rows = [entry.form for entry in field.entries]
        for i, row in enumerate(rows):
            last = i == len(rows) - 1
            if last and row.max_sales.data is not None:
                fail(row.max_sales, "最后一档应留空（不设上限）")
            elif not last and row.max_sales.data is None:
                fail(row.max_sales, "除最后一档外，请填写销售收入上限")
            elif (
                i
                and None not in (row.max_sales.data, rows[i - 1].max_sales.data)
                and row.max_sales.data <= rows[i - 1].max_sales.data
            ):
                fail(row.max_sales, "销售收入上限应从低到高递增")
    elif spec.kind in ("bands", "steps"):
        rows = [entry.form for entry in field.entries]
        for i, row in enumerate(rows):
            if spec.kind == "bands":
                check_range(spec, row.low, row.high)
            elif spec.maximum is not None and row.points.data > spec.maximum:
                fail(row.points, f"不能超过 {spec.maximum} 分")
            if i and row.at_least.data >= rows[i - 1].at_least.data:
                fail(row.at_least, "各档门槛应从高到低排列")
    elif spec.kind == "int" and spec.maximum is not None and field.data > spec.maximum:
        fail(field, f"不能超过 {spec.maximum} 分")


def check_range(spec: Spec, low, high) -> None:
    """Check that a range of points runs upwards and stays within the indicator's maximum."""
    if low.data > high.data:
        fail(high, "最高分不能低于最低分")
    elif spec.maximum is not None and high.data > spec.maximum:
        fail(high, f"不能超过 {spec.maximum} 分")


def check_totals(form: SettingsForm) -> None:
    """Check that the sub-items of each indicator add up to no more than the indicator."""
    ip = (
        form.hte_ip_class1_band.form.high.data
        + form.hte_ip_advancement_max.data
        + form.hte_ip_core_support_max.data
        + form.hte_ip_acquisition_own.form.high.data
    )
    if ip > IP_TOTAL:
        fail(form.hte_ip_advancement_max, f"知识产权各项满分合计 {ip} 分，超过 {IP_TOTAL} 分")
    if form.hte_ip_acquisition_other.form.high.data > form.hte_ip_acquisition_own.form.high.data:
        fail(form.hte_ip_acquisition_other.form.high, "不能高于自主研发的最高分")
    rd = sum(
        form[f"hte_{name}"].data
        for name in ("rd_rules_max", "rd_institution_max", "rd_incentives_max", "rd_talent_max")
    )
    if rd > RD_TOTAL:
        fail(form.hte_rd_rules_max, f"研究开发组织管理水平各项满分合计 {rd} 分，超过 {RD_TOTAL} 分")
    for row in form.hte_ip_class2_bands.entries:
        if row.form.high.data > form.hte_ip_class1_band.form.high.data:
            fail(row.form.high, "仅有Ⅱ类知识产权的得分不能高于拥有Ⅰ类知识产权")


def describe(settings: Settings) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Return a version's settings as readable Chinese: (section, [(label, text or rows)])."""
    sections = []
    for section, title in SECTIONS.items():
        rows = [
            (spec.label, describe_value(spec, getattr(getattr(settings, section), spec.name)))
            for spec in SPECS
            if spec.section == section
        ]
        sections.append((title, rows))
    return sections


def describe_value(spec: Spec, value: Any) -> Any:
    """Return one setting as text, or as a list of (condition, points) rows for bands."""
    unit = "%" if spec.unit == "percent" else f" {spec.unit}"
    scale = HUNDRED if spec.unit == "percent" else 1
    if spec.kind == "int":
        return str(value) + (" 分" if spec.maximum is not None else "")
    if spec.kind == "percent":
        return f"{text(value * HUNDRED)}%"
    if spec.kind == "wan":
        return f"{text(value / WAN)} 万元"
    if spec.kind == "pair":
        return f"{value[0]}–{value[1]} 分"
    if spec.kind == "rd_tiers":
        return [
            (
                "不设上限" if t.max_sales is None else f"≤ {text(t.max_sales / WAN)} 万元",
                f"≥ {text(t.min_ratio * HUNDRED)}%",
            )
            for t in value
        ]
    if spec.kind == "bands":
        return [(f"≥ {text(b.at_least * scale)}{unit}", f"{b.low}–{b.high} 分") for b in value]
    return [(f"≥ {text(s.at_least * scale)}{unit}", f"{s.points} 分") for s in value]
