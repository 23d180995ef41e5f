"""Forms of the eligibility pages: the readiness filters and the manager's expert assessment."""

from typing import Any

from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from crm.core.forms import Form, optional_str, options, strip
from crm.eligibility.facts import VERDICT_LABELS, VERDICT_RANK
from crm.eligibility.queries import ReadinessFilters, normalise_sort
from crm.eligibility.settings import HteSettings
from crm.firms.forms import NO_CHOICES, FirmFilterForm

#: The expert-judged sub-items: field → (indicator, how its maximum is read from the settings).
EXPERT_ITEMS = {
    "tech_advancement": ("知识产权", lambda s: s.ip_advancement_max),
    "core_support": ("知识产权", lambda s: s.ip_core_support_max),
    "acquisition": ("知识产权", lambda s: s.ip_acquisition_own[1]),
    "standards": ("知识产权", lambda s: s.ip_standards_max),
    "rd_rules": ("研究开发组织管理水平", lambda s: s.rd_rules_max),
    "rd_institution": ("研究开发组织管理水平", lambda s: s.rd_institution_max),
    "rd_incentives": ("研究开发组织管理水平", lambda s: s.rd_incentives_max),
    "rd_talent": ("研究开发组织管理水平", lambda s: s.rd_talent_max),
}
CLEAN_RECORD_CHOICES = options([("1", "是"), ("0", "否")], "未确认")


class ReadinessFilterForm(FirmFilterForm):
    """The firm-list filters plus the verdict (read from the query string)."""

    verdict = SelectField("预评估结论", coerce=optional_str, validate_choice=False)

    def __init__(self, formdata, choices: dict[str, list[tuple[int, str]]], **kwargs):
        super().__init__(formdata, choices, **kwargs)
        self.verdict.choices = options(
            [*((v, VERDICT_LABELS[v]) for v in VERDICT_RANK), ("none", "尚未评估")], "全部结论"
        )

    def readiness_filters(self, sort: str | None) -> ReadinessFilters:
        """Return the filters and sort the readiness query applies."""
        verdict = self.verdict.data if self.verdict.data in (*VERDICT_LABELS, "none") else None
        return ReadinessFilters(firm=self.filters(None), verdict=verdict, sort=normalise_sort(sort))


def readiness_filters(args) -> ReadinessFilters:
    """Return the filters and sort the readiness list applies for its query `args` (a
    MultiDict), read as the list page reads them; its export reads them the same way."""
    return ReadinessFilterForm(args, NO_CHOICES).readiness_filters(args.get("sort"))


def tri_state(value: Any) -> str:
    """Coerce a stored bool or a submitted choice to "1", "0" or "" (not confirmed)."""
    if value is True or value == "1":
        return "1"
    if value is False or value == "0":
        return "0"
    return ""


def points_field(label: str) -> IntegerField:
    """Return an optional whole-number field of points (empty means not assessed)."""
    return IntegerField(label, [Optional(), NumberRange(min=0, message="分数不能为负数")])


class ExpertForm(Form):
    """The manager's assessment of the sub-items only experts judge, and of the firm's record."""

    tech_advancement = points_field("技术的先进程度")
    core_support = points_field("对主要产品（服务）在技术上发挥核心支持作用")
    acquisition = points_field("知识产权获得方式")
    standards = points_field("参与编制国家标准、行业标准等（加分项）")
    rd_rules = points_field("研究开发组织管理制度及研发投入核算体系")
    rd_institution = points_field("研发机构及产学研合作")
    rd_incentives = points_field("成果转化激励及创新创业平台")
    rd_talent = points_field("科技人员培养及人才引进")
    clean_record = SelectField(
        "申请前一年内无重大安全、重大质量事故及严重环境违法行为",
        choices=CLEAN_RECORD_CHOICES,
        coerce=tri_state,
    )
    national_award = BooleanField("近五年获得国家级科技奖励（前三名完成单位）")
    provincial_rd_institution = BooleanField("拥有省部级以上研发机构")
    led_standard = BooleanField("近五年主导制定国际、国家或行业标准")
    notes = TextAreaField("评估说明", [Length(max=5000)], filters=[strip])

    def __init__(self, settings: HteSettings, obj=None, **kwargs):
        super().__init__(obj=obj, **kwargs)
        if self.clean_record.data is None:  # not assessed yet: the 未确认 choice
            self.clean_record.data = ""
        for name, (indicator, maximum) in EXPERT_ITEMS.items():
            getattr(
                self, name
            ).description = f"{indicator}：0–{maximum(settings)} 分，留空表示尚未评估"
        own, other = settings.ip_acquisition_own, settings.ip_acquisition_other
        self.acquisition.description = (
            f"知识产权：自主研发 {own[0]}–{own[1]} 分；"
            f"仅受让、受赠、并购 {other[0]}–{other[1]} 分，留空表示尚未评估"
        )

    def values(self) -> dict[str, Any]:
        """Return the expert-assessment attributes to store."""
        values: dict[str, Any] = {name: getattr(self, name).data for name in EXPERT_ITEMS}
        values["clean_record"] = {"1": True, "0": False}.get(self.clean_record.data)
        for name in ("national_award", "provincial_rd_institution", "led_standard"):
            values[name] = bool(getattr(self, name).data)
        values["notes"] = self.notes.data or None
        return values
