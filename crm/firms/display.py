"""Presentation helpers for the firm pages: derived ratios and readable audit history."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import Boolean, DateTime, Numeric

from crm.certification.models import (
    APPLICATION_STATUSES,
    CHANGE_KINDS,
    CertificationApplication,
    ChangeReport,
)
from crm.coaching.models import (
    ACTIVITY_KINDS,
    MEASURE_STATUSES,
    PLAN_STATUSES,
    Activity,
    CoachingMeasure,
    CoachingMilestone,
    CoachingPlan,
)
from crm.core import jsontext
from crm.core.audit import ACTIONS, AuditEntry
from crm.core.filters import format_datetime, format_wan
from crm.core.models import label_of
from crm.eligibility.models import ExpertAssessment
from crm.firms import queries, rules
from crm.firms.models import Firm, FirmContact, FirmFormerName, FirmYear, IPItem, Qualification
from crm.listing.models import MARKETS, NEEQ_TIERS, ListingCase
from crm.pipeline.models import Enrollment
from crm.pipeline.rules import ENTRY_REASONS
from crm.support.models import ENTRY_STATUSES, SUPPORT_KINDS, SupportEntry

ENTITY_LABELS = {
    "firms": "企业信息",
    "firm_former_names": "曾用名",
    "firm_contacts": "联系人",
    "firm_years": "年度数据",
    "ip_items": "知识产权",
    "qualifications": "资质",
    "coaching_plans": "一企一策方案",
    "coaching_measures": "辅导措施",
    "coaching_milestones": "方案节点",
    "activities": "走访记录",
    "enrollments": "培育记录",
    "listing_cases": "上市案卷",
    "certification_applications": "高企认定申报",
    "change_reports": "变更报告",
    "support_entries": "扶持台账",
    "expert_assessments": "专员评估",
}
#: The records an enterprise user sees the history of: its own profile and figures. The rest
#: (enrollments, plans, visits, the ledger, the manager's assessment) is the bureau's work.
FIRM_RECORD_ENTITIES = (
    "firms",
    "firm_former_names",
    "firm_contacts",
    "firm_years",
    "ip_items",
    "qualifications",
)
MODELS = {
    model.__tablename__: model
    for model in (
        Firm,
        FirmFormerName,
        FirmContact,
        FirmYear,
        IPItem,
        Qualification,
        CoachingPlan,
        CoachingMeasure,
        CoachingMilestone,
        Activity,
        Enrollment,
        ListingCase,
        CertificationApplication,
        ChangeReport,
        SupportEntry,
        ExpertAssessment,
    )
}
CODE_LABELS = {
    "kind": {k: label for k, (label, _) in rules.IP_KINDS.items()},
    "status": rules.IP_STATUSES,
    "acquisition": rules.ACQUISITION_MODES,
    "tier": {k: label for k, (label, _) in rules.TIERS.items()},
}
#: Code columns whose meaning depends on the table: (table, column) → labels.
ENTITY_CODE_LABELS = {
    ("coaching_plans", "status"): PLAN_STATUSES,
    ("coaching_measures", "status"): MEASURE_STATUSES,
    ("activities", "kind"): ACTIVITY_KINDS,
    ("enrollments", "entry_reason"): {str(k): f"{k}. {v}" for k, v in ENTRY_REASONS.items()},
    ("listing_cases", "target_market"): MARKETS,
    ("listing_cases", "neeq_tier"): NEEQ_TIERS,
    ("certification_applications", "status"): APPLICATION_STATUSES,
    ("change_reports", "kind"): CHANGE_KINDS,
    ("support_entries", "kind"): SUPPORT_KINDS,
    ("support_entries", "status"): ENTRY_STATUSES,
}


@dataclass(frozen=True)
class HistoryRow:
    """One audit entry in words."""

    at: datetime
    actor: str
    source: str
    entity: str
    action: str
    field: str
    old: str
    new: str
    summary: str


def history_rows(entries: Iterable[AuditEntry]) -> list[HistoryRow]:
    """Describe audit entries in Chinese, resolving referenced ids with one query per kind."""
    entries = list(entries)
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.action == "update" and entry.field in queries.REFERENCE_COLUMNS:
            for value in (entry.old_value, entry.new_value):
                if value and value.isdigit():
                    wanted.setdefault(entry.field, set()).add(int(value))
    names = queries.reference_names(wanted)
    return [_describe(entry, names) for entry in entries]


def _describe(entry: AuditEntry, names: dict[str, dict[int, str]]) -> HistoryRow:
    model = MODELS.get(entry.entity)
    field_label, old, new, summary = "", "", "", ""
    if entry.action == "update" and entry.field:
        field_label = label_of(model, entry.field) if model else entry.field
        field_label = field_label.replace("（元）", "（万元）")
        old = format_value(model, entry.field, entry.old_value, names)
        new = format_value(model, entry.field, entry.new_value, names)
    else:
        summary = summarise(entry.entity, entry.new_value or entry.old_value)
    return HistoryRow(
        at=entry.at,
        actor=entry.actor.name if entry.actor else "系统",
        source=entry.source_label,
        entity=ENTITY_LABELS.get(entry.entity, entry.entity),
        action=ACTIONS.get(entry.action, entry.action),
        field=field_label,
        old=old,
        new=new,
        summary=summary,
    )


def format_value(model, field: str, raw: str | None, names: dict[str, dict[int, str]]) -> str:
    """Show one recorded value the way the pages show the column."""
    if raw is None or raw == "":
        return ""
    if field in queries.REFERENCE_COLUMNS and raw.isdigit():
        return names.get(field, {}).get(int(raw), f"#{raw}")
    table = model.__tablename__ if model is not None else None
    if (table, field) in ENTITY_CODE_LABELS:
        return ENTITY_CODE_LABELS[(table, field)].get(raw, raw)
    if field in CODE_LABELS:
        return CODE_LABELS[field].get(raw, raw)
    column = model.__table__.columns.get(field) if model is not None else None
    kind = column.type if column is not None else None
    if isinstance(kind, Boolean):
        return "是" if raw == "true" else "否"
    if isinstance(kind, Numeric):
        try:
            return f"{format_wan(Decimal(raw))} 万元"
        except InvalidOperation:
            return raw
    if isinstance(kind, DateTime):
        try:
            return format_datetime(datetime.fromisoformat(raw))
        except ValueError:
            return raw
    return raw


def summarise(entity: str, snapshot: str | None) -> str:
    """Return a short description of a created or deleted row from its JSON snapshot."""
    try:
        values = jsontext.loads(snapshot or "{}")
    except ValueError:
        return ""
    if entity == "firm_years":
        return f"{values.get('year', '')} 年度"
    if entity == "ip_items":
        kind = CODE_LABELS["kind"].get(values.get("kind", ""), values.get("kind", ""))
        return f"{kind}：{values.get('title', '')}"
    if entity == "qualifications":
        tier = CODE_LABELS["tier"].get(values.get("tier", ""), values.get("tier", ""))
        return f"{tier}（{values.get('year', '')} 年度）"
    if entity == "coaching_plans":
        return f"{values.get('year', '')} 年度方案"
    if entity == "activities":
        kind = ACTIVITY_KINDS.get(values.get("kind", ""), values.get("kind", ""))
        return f"{values.get('occurred_on', '')} {kind}"
    if entity == "enrollments":
        return f"{values.get('opened_on', '')} 入库"
    if entity == "certification_applications":
        return f"{values.get('submitted_on', '')} 申报"
    if entity == "change_reports":
        kind = CHANGE_KINDS.get(values.get("kind", ""), values.get("kind", ""))
        return f"{values.get('changed_on', '')} {kind}"
    if entity == "support_entries":
        kind = SUPPORT_KINDS.get(values.get("kind", ""), values.get("kind", ""))
        return f"{kind}：{values.get('title') or ''}".rstrip("：")
    if entity == "listing_cases":
        return MARKETS.get(values.get("target_market") or "", "")
    if entity in ("coaching_measures", "coaching_milestones"):
        return values.get("title", "")
    if entity == "firm_contacts" and values.get("role"):
        return f"{values.get('name', '')}（{values['role']}）"
    return values.get("name", "")
