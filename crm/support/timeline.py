"""Support entries and their payments on a firm's timeline (时间线 tab).

A source of `crm.firms.timeline`: up to `limit` items after the cursor `key`, newest first.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import aliased

from crm.core.filters import format_wan
from crm.extensions import db
from crm.firms.models import Firm
from crm.firms.timeline_items import Key, TimelineItem, dated_page
from crm.support.models import SupportEntry


def support(firm_id: int, key: Key | None, limit: int, today: date) -> list[TimelineItem]:
    """Return the support entries recorded on the ledger and the payments made."""
    s = SupportEntry
    incubated = aliased(Firm)
    granted = list(
        db.session.execute(
            dated_page(
                select(s, incubated.name)
                .outerjoin(incubated, incubated.id == s.related_firm_id)
                .where(s.firm_id == firm_id),
                s.granted_on,
                s.created_at,
                s.id,
                8,
                key,
                limit,
            )
        )
    )
    paid = list(
        db.session.scalars(
            dated_page(
                select(s).where(s.firm_id == firm_id, s.status == "paid"),
                s.paid_on,
                s.updated_at,
                s.id,
                9,
                key,
                limit,
            )
        )
    )
    items = []
    for row, incubated_name in granted:
        amount = f"{format_wan(row.amount)} 万元" if row.amount is not None else "待定"
        details = [f"类型：{row.kind_label}", f"金额：{amount}", f"状态：{row.status_label}"]
        details += [f"在孵企业：{incubated_name}"] if incubated_name else []
        details += [f"文号：{row.document_number}"] if row.document_number else []
        items.append(
            TimelineItem(
                Key(row.granted_on, row.created_at, 8, row.id),
                "support",
                "bi-cash-coin",
                f"记入扶持台账：{row.title or row.kind_label}",
                details,
                recorded=("support_entries", row.id, None),
            )
        )
    for row in paid:
        amount = f"{format_wan(row.amount)} 万元" if row.amount is not None else "金额未填写"
        details = [f"金额：{amount}"] + (
            [f"文号：{row.document_number}"] if row.document_number else []
        )
        items.append(
            TimelineItem(
                Key(row.paid_on, row.updated_at, 9, row.id),
                "support",
                "bi-bank",
                f"扶持资金拨付：{row.title or row.kind_label}",
                details,
                recorded=("support_entries", row.id, "paid"),
            )
        )
    return items
