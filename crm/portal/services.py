"""Use cases of change requests: a firm files them, the bureau decides them field by field.

Filing writes nothing of the record. Approving writes through the firms' services inside
`audit_source("portal:<id>")`, so the audit trail, the re-assessment, the funnel and the
reminders follow as for any change made on the staff pages. Everything here flushes and never
commits.
"""

from collections.abc import Collection
from typing import Any

from crm.accounts.models import User
from crm.core import clock
from crm.core.audit import audit_source
from crm.extensions import db
from crm.firms import rules as firm_rules
from crm.firms import services as firms
from crm.firms.models import Firm
from crm.portal import changes
from crm.portal.models import ChangeItem, ChangeRequest


class PortalError(ValueError):
    """A request or a decision that cannot be made, with the reason in Chinese."""


def audit_label(request_id: int) -> str:
    """Return the audit source of the changes a request's approval writes."""
    return f"portal:{request_id}"


# --- Filing ---------------------------------------------------------------------------------------


def _title(kind: str, values: dict[str, Any], row) -> str:
    if kind == "profile":
        return "企业基本信息"
    if kind == "year":
        return f"{values.get('year') or row.year} 年度数据"
    if kind == "contact":
        return f"联系人：{values.get('name') or row.name}"
    return f"知识产权：{values.get('title') or row.title}"


def submit(
    firm: Firm,
    kind: str,
    values: dict[str, Any],
    *,
    user: User,
    row=None,
    note: str | None = None,
) -> ChangeRequest:
    """File a request to change `row` (the firm for its profile; None for a new row) to
    `values`; only the fields that differ from the record become items.

    Refuses a request that changes nothing.
    """
    spec = changes.KINDS[kind]
    old = changes.values_of(kind, row)
    new = changes.encoded({field: values.get(field) for field in spec.fields})
    differing = [field for field in spec.fields if new[field] != old[field]]
    if not differing:
        raise PortalError("没有需要变更的内容：所填内容与现有记录相同")
    request = ChangeRequest(
        firm_id=firm.id,
        kind=kind,
        target_id=None if kind == "profile" or row is None else row.id,
        title=_title(kind, values, row),
        note=note or None,
        submitted_by_id=user.id,
        submitted_at=clock.utcnow(),
        items=[
            ChangeItem(position=n, field=field, old_value=old[field], new_value=new[field])
            for n, field in enumerate(differing)
        ],
    )
    db.session.add(request)
    db.session.flush()
    return request


def withdraw(request: ChangeRequest) -> None:
    """Take back a request the bureau has not decided yet."""
    if not request.is_open:
        raise PortalError("该申请已审核，不能撤回")
    request.status = "withdrawn"
    request.decided_at = clock.utcnow()
    db.session.flush()


# --- Review ---------------------------------------------------------------------------------------


def _year_of(request: ChangeRequest) -> int | None:
    for item in request.items:
        if item.field == "year":
            return int(item.new_value) if item.new_value else None
    return None


def record_of(request: ChangeRequest):
    """Return the record the request is about as it is now (None: a new row not yet there, or
    a row since deleted)."""
    return changes.current_row(request.kind, request.firm, request.target_id, _year_of(request))


def review(request: ChangeRequest) -> tuple[dict[str, str | None], set[str]]:
    """Return, from one read of the record, each field's value in it now (as kept) and the
    fields whose value is no longer the one the firm saw: the conflicts.

    A row the request edits that has since been deleted conflicts in every field.
    """
    row = record_of(request)
    now = changes.values_of(request.kind, row)
    if row is None and request.target_id is not None:
        return now, {item.field for item in request.items}
    return now, {item.field for item in request.items if now[item.field] != item.old_value}


def conflicts(request: ChangeRequest) -> set[str]:
    """Return the fields of `request` in conflict with the record (see `review`)."""
    return review(request)[1]


def decide(
    request: ChangeRequest,
    *,
    reviewer: User,
    approved: Collection[str],
    reason: str | None = None,
) -> None:
    """Approve the fields in `approved` and turn down the others; write the approved ones.

    Turning any field down needs a reason for the firm. A new row needs its required fields
    (a year's year, a contact's name, an IP item's kind and title) approved with any other.
    """
    if not request.is_open:
        raise PortalError("该申请已审核或已撤回")
    fields = {item.field for item in request.items}
    approved = set(approved) & fields
    reason = (reason or "").strip() or None
    if approved != fields and reason is None:
        raise PortalError("未通过的内容请填写审核意见，告知企业原因")
    if approved:
        with audit_source(audit_label(request.id), reviewer.id):
            _apply(request, approved)
    for item in request.items:
        item.decision = "approved" if item.field in approved else "rejected"
    if approved == fields:
        request.status = "approved"
    elif approved:
        request.status = "partial"
    else:
        request.status = "rejected"
    request.reason = reason
    request.decided_by_id = reviewer.id
    request.decided_at = clock.utcnow()
    db.session.flush()


def _apply(request: ChangeRequest, approved: set[str]) -> None:
    kind, firm = request.kind, request.firm
    values = {
        item.field: changes.decoded(kind, item.field, item.new_value)
        for item in request.items
        if item.field in approved
    }
    row = record_of(request)
    if row is None and request.target_id is not None:
        raise PortalError("该申请修改的记录已被删除，只能不予通过")
    if kind == "year":
        _check_year(row, values)
    if row is None:
        missing = [f for f in changes.KINDS[kind].required if f not in values]
        if missing:
            labels = "、".join(changes.label(kind, f) for f in missing)
            raise PortalError(f"新增记录必须通过“{labels}”")
    if kind == "profile":
        firms.update_firm(firm, values)
    elif kind == "contact":
        firms.update_contact(row, values) if row else firms.add_contact(firm, values)
    elif kind == "year":
        firms.update_year(row, values) if row else firms.add_year(firm, values)
    else:
        firms.update_ip(row, values) if row else firms.add_ip(firm, values)


def _check_year(row, values: dict[str, Any]) -> None:
    merged = {f: getattr(row, f) for f in changes.KINDS["year"].fields} if row else {}
    merged.update(values)
    problems = firm_rules.year_problems(merged)
    if problems:
        raise PortalError("通过后数据将不一致：" + "；".join(message for _, message in problems))


def mark_seen(request: ChangeRequest) -> None:
    """Note that the firm has seen the decision on its request."""
    if not request.is_open and request.seen_at is None:
        request.seen_at = clock.utcnow()
        db.session.flush()
