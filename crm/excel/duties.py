"""The national system's list of firms that filed their yearly report, marking those reports.

A row names a firm, and maybe the report, the year, the day it was filed and its status; what
the row leaves out comes from the choices made for the whole file. The row marks the firm's
report of that year filed (`certification_duties`, crm/certification/models.py): a change of
the report the daily run opened, or a new report when none was open (the run had not reached
it, or no certificate of the firm was valid at the year's end, which the row warns of). A report
already marked keeps its date. A row whose status says the firm did not file writes nothing.
"""

from datetime import date
from typing import Any

from sqlalchemy import select

from crm.certification import duties, rules
from crm.certification.models import Duty
from crm.core import clock
from crm.core.bulk import chunks
from crm.extensions import db
from crm.firms.certificates import firms_certified_on

TABLE = "certification_duties"


def load_duties(firm_ids: set[int]) -> dict[tuple, tuple[int, date | None]]:
    """Return (id, filed on) of the firms' reports by (firm id, kind, year)."""
    found = {}
    for chunk in chunks(sorted(firm_ids)):
        stmt = select(Duty.id, Duty.firm_id, Duty.kind, Duty.year, Duty.filed_on).where(
            Duty.firm_id.in_(chunk)
        )
        for duty_id, firm_id, kind, year, filed_on in db.session.execute(stmt):
            found[(firm_id, kind, year)] = (duty_id, filed_on)
    return found


def plan_duties(world, rows, plans, matched, options: dict[str, Any]) -> None:
    """Plan each row's filing of a report."""
    stored = load_duties({m for m in matched if m is not None})
    today = clock.today()
    deadlines: dict[tuple[str, int], date] = {}
    by_year: dict[int, list[int]] = {}
    wanted = []
    for row, plan, firm_id in zip(rows, plans, matched, strict=True):
        if plan.has_errors:
            continue
        kind = row.values.get("duty_kind") or options.get("duty_kind")
        year = row.values.get("year") or _option_year(options)
        if kind is None:
            plan.error(
                row.letters.get("duty_kind", ""), "缺少报表类型：请增加「报表」列或在导入时选择"
            )
        if year is None:
            plan.error(
                row.letters.get("year", ""), "缺少报告年度：请增加「报告年度」列或在导入时选择"
            )
        elif year >= today.year:
            plan.error(row.letters.get("year", ""), f"{year} 年度尚未结束，不能填报该年度的年报")
        if plan.has_errors:
            continue
        if row.values.get("status") == "not_filed":
            plan.warn(row.letters.get("status", ""), "名单显示该企业未填报，本行不作标记")
            continue
        wanted.append((row, plan, firm_id, kind, year))
        by_year.setdefault(year, []).append(firm_id)
    certified = {year: firms_certified_on(ids, date(year, 12, 31)) for year, ids in by_year.items()}
    for row, plan, firm_id, kind, year in wanted:
        if (kind, year) not in deadlines:
            deadlines[(kind, year)] = duties.deadline(kind, year)
        due_on = deadlines[(kind, year)]
        filed_on = row.values.get("filed_on")
        if filed_on is None:
            filed_on = min(today, due_on)
            plan.warn(
                row.letters.get("filed_on", ""),
                f"未提供填报日期，按 {filed_on.isoformat()} 计",
            )
        elif filed_on > today:
            plan.error(row.letters["filed_on"], "填报日期不能晚于今天")
            continue
        key = (firm_id, kind, year)
        found = stored.get(key)
        if found is None:
            if firm_id not in certified[year]:
                plan.warn(
                    "",
                    f"系统中该企业 {year} 年末没有有效的高企证书，仍按名单记录其"
                    f"{rules.DUTY_KINDS[kind]}",
                )
            values = {"kind": kind, "year": year, "due_on": due_on, "filed_on": filed_on}
            if world.user is not None:
                values["marked_by_id"] = world.user.id
            plan.children.append((TABLE, key, None, values, {}))
            continue
        duty_id, stored_filed_on = found
        if stored_filed_on is not None:
            if stored_filed_on != filed_on:
                plan.warn(
                    row.letters.get("filed_on", ""),
                    f"系统已记录于 {stored_filed_on.isoformat()} 填报，未作修改",
                )
            continue
        values = {"filed_on": filed_on}
        if world.user is not None:
            values["marked_by_id"] = world.user.id
        plan.children.append((TABLE, key, duty_id, values, {"filed_on": None}))


def _option_year(options: dict[str, Any]) -> int | None:
    year = options.get("year")
    return int(year) if year else None
