"""The firm's stage moves on its timeline (时间线 tab), the override ones flagged.

A source of `crm.firms.timeline`: up to `limit` items after the cursor `key`, newest first.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.core.filters import format_date
from crm.extensions import db
from crm.firms.timeline_items import Key, TimelineItem, dated_page, user_name_only
from crm.pipeline.models import Stage, StageTransition


def transitions(firm_id: int, key: Key | None, limit: int, today: date) -> list[TimelineItem]:
    """Return the firm's stage moves, the override ones flagged."""
    t = StageTransition
    stmt = (
        select(t)
        .where(t.firm_id == firm_id)
        .options(joinedload(t.to_stage).joinedload(Stage.programme), user_name_only(t.by))
    )
    items = []
    for row in db.session.scalars(dated_page(stmt, t.moved_on, t.at, t.id, 1, key, limit)):
        programme, target = row.to_stage.programme.name, row.to_stage.name
        if row.from_stage is None:
            title = f"加入{programme}（{target}）"
        else:
            title = f"{programme}：{row.from_stage.name} → {target}"
        details = [f"原因：{row.reason}"] if row.reason else []
        if row.document_number or row.document_on:
            label = "证书编号" if row.to_stage.code == "certified" else "文号"
            dated = f"（{format_date(row.document_on)}）" if row.document_on else ""
            details.append(f"{label}：{row.document_number or '未填写'}{dated}")
        if row.is_override:
            details.append(f"越过门槛的理由：{row.override_reason}")
        items.append(
            TimelineItem(
                Key(row.moved_on, row.at, 1, row.id),
                "transition",
                "bi-shield-exclamation" if row.is_override else "bi-signpost-split",
                title,
                details,
                who=row.by.name if row.by else "系统",
                badge="越过门槛" if row.is_override else "",
            )
        )
    return items
