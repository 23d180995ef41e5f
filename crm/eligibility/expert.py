"""The account manager's assessment of the expert-judged score items, checked against the rules.

Everything here flushes and never commits.
"""

from datetime import date
from typing import Any

from sqlalchemy import select

from crm.core import clock
from crm.eligibility.measures import counted_ip
from crm.eligibility.models import ExpertAssessment
from crm.eligibility.services import firm_facts, settings_in_force
from crm.eligibility.settings import Settings
from crm.extensions import db
from crm.firms.models import Firm

#: Expert-judged score items and the setting that caps each (acquisition has a band instead).
SCORE_ITEMS = {
    "tech_advancement": "ip_advancement_max",
    "core_support": "ip_core_support_max",
    "acquisition": None,
    "standards": "ip_standards_max",
    "rd_rules": "rd_rules_max",
    "rd_institution": "rd_institution_max",
    "rd_incentives": "rd_incentives_max",
    "rd_talent": "rd_talent_max",
}
FLAGS = ("national_award", "provincial_rd_institution", "led_standard")


class ExpertAssessmentError(ValueError):
    """A manager's assessment item outside the points it may take."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def acquisition_band(firm: Firm, today: date, settings: Settings) -> tuple[int, int] | None:
    """Return the points the IP acquisition item may take, or None when no IP counts."""
    facts = firm_facts([firm], today)[firm.id]
    counted = counted_ip(facts.ip_items, today)
    if not counted:
        return None
    if any(item.acquisition == "own" for item in counted):
        return settings.hte.ip_acquisition_own
    return settings.hte.ip_acquisition_other


def _points(field: str, raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    label = ExpertAssessment.__table__.columns[field].info["label"]
    try:
        if isinstance(raw, bool):
            raise ValueError
        return int(raw)
    except (TypeError, ValueError):
        raise ExpertAssessmentError(field, f"“{label}”应填写整数分值") from None


def validated_expert_values(firm: Firm, values: dict[str, Any]) -> dict[str, Any]:
    """Return the values to store, or raise ExpertAssessmentError naming the first bad item."""
    today = clock.today()
    settings = settings_in_force(today).settings
    clean: dict[str, Any] = {}
    for field, cap in SCORE_ITEMS.items():
        if field not in values:
            continue
        points = _points(field, values[field])
        clean[field] = points
        if points is None:
            continue
        label = ExpertAssessment.__table__.columns[field].info["label"]
        if cap is not None:
            low, high, why = 0, getattr(settings.hte, cap), ""
        elif (band := acquisition_band(firm, today, settings)) is None:
            low, high, why = 0, 0, "企业暂无可计入的知识产权，"
        elif band == settings.hte.ip_acquisition_own:
            (low, high), why = band, "企业有自主研发的知识产权，"
        else:
            (low, high), why = band, "企业的知识产权仅为受让、受赠或并购取得，"
        if not low <= points <= high:
            allowed = f"应在 {low}–{high} 分之间" if high else "只能为 0 分或不填"
            raise ExpertAssessmentError(field, f"{why}“{label}”{allowed}")
    if "clean_record" in values:
        record = values["clean_record"]
        clean["clean_record"] = None if record is None else bool(record)
    for flag in FLAGS:
        if flag in values:
            clean[flag] = bool(values[flag])
    if "notes" in values:
        clean["notes"] = (values["notes"] or "").strip() or None
    return clean


def save_expert_assessment(firm: Firm, values: dict[str, Any], actor) -> ExpertAssessment:
    """Store the manager's assessment of the firm; keys that are not assessment items are ignored.

    Raises ExpertAssessmentError, with a Chinese message naming the item, for points out of range.
    """
    clean = validated_expert_values(firm, values)
    clean["assessed_by_id"] = actor.id if actor is not None else None
    row = db.session.scalar(select(ExpertAssessment).where(ExpertAssessment.firm_id == firm.id))
    if row is None:
        row = ExpertAssessment(firm_id=firm.id, **clean)
        db.session.add(row)
    else:
        for key, value in clean.items():
            setattr(row, key, value)
    db.session.flush()
    return row
