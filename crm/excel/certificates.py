"""High-tech certificates in a qualifications list: the dry run's plan and the apply's writes.

A provincial list of certified firms (证书编号, 发证日期) loads the existing stock into the
certificate record, which certification alone writes: the dry run plans each row as a
`certificates` child (new, or a change to the certificate of that issue date), and the apply hands
it to `crm.certification.certificates.record_certificate`, one row at a time (a list is a few
hundred firms), so a newer certificate replaces the older one and the audit trail names the batch.
A row with a year but no issue date records the certificate dated 1 January of that year, marked
as estimated, until a list with the date is imported.
"""

from datetime import date
from typing import Any

from sqlalchemy import select

from crm.certification import rules as certification_rules
from crm.certification.certificates import record_certificate
from crm.core.audit import AuditContext, audit_source
from crm.extensions import db
from crm.firms.models import Certificate
from crm.firms.rules import HTE_KIND, same_certificate

TABLE = "certificates"
#: What a certificate row of the plan carries.
COLUMNS = ("issued_on", "issued_on_estimated", "number", "document")


def load_certificates(firm_ids: list[int]) -> dict[int, list[tuple[int, dict[str, Any]]]]:
    """Return each firm's high-tech certificates as (id, values), by firm id."""
    found: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    stmt = select(Certificate.id, Certificate.firm_id, *(getattr(Certificate, c) for c in COLUMNS))
    for row in db.session.execute(
        stmt.where(Certificate.firm_id.in_(firm_ids), Certificate.kind == HTE_KIND)
    ):
        found.setdefault(row[1], []).append((row[0], dict(zip(COLUMNS, row[2:], strict=True))))
    return found


def plan_certificate(row, plan, firm_id: int, year: int, stored: list) -> date | None:
    """Add the row's certificate to its plan: new, changed, or nothing when already recorded.

    Return the certificate's issue date (1 January of `year` when the row gives none), or None
    when the row is in error.
    """
    issued = row.values.get("issued_on")
    number = row.values.get("number")
    estimated = issued is None
    if estimated:
        issued = date(year, 1, 1)
        plan.warn(
            row.letters.get("issued_on", ""),
            f"缺少发证日期：证书按 {year} 年 1 月 1 日计，导入带发证日期的名单后更正",
        )
    elif issued.year != year:
        plan.error(row.letters.get("year", ""), f"年度 {year} 与发证日期的年份不一致")
        return None
    if number:
        warning = certification_rules.certificate_number_warning(number)
        if warning:
            plan.warn(row.letters.get("number", ""), warning)
    values = {
        "issued_on": issued,
        "issued_on_estimated": estimated,
        "number": number,
        "document": row.values.get("source_document"),
    }
    # The key says which certificate the row is; the values, only what it gives or changes.
    key = (firm_id, HTE_KIND, issued.isoformat(), estimated)
    match = _recorded(stored, issued, estimated)
    if match is None:
        given = {c: v for c, v in values.items() if v is not None and v is not False}
        plan.children.append((TABLE, key, None, given, {}))
        return issued
    row_id, old = match
    if estimated:  # a year alone never overrides what is recorded, only fills it in
        issued = old["issued_on"]
        values = {
            "number": old["number"] or number,
            "document": old["document"] or values["document"],
        }
    changed = [c for c, v in values.items() if v is not None and v != old[c]]
    if changed:
        new, before = {c: values[c] for c in changed}, {c: old[c] for c in changed}
        plan.children.append((TABLE, key, row_id, new, before))
    return issued


def _recorded(stored: list, issued: date, estimated: bool):
    """Return the stored certificate (id, values) the row describes, if any."""
    index = same_certificate(
        [(old["issued_on"], old["issued_on_estimated"]) for _, old in stored], issued, estimated
    )
    return stored[index] if index is not None else None


def write_certificates(rows, context: AuditContext, transitions: dict[int, int]) -> None:
    """Record the planned certificates through certification, under the batch's audit source.

    `transitions` holds, by row number, the transition of the row's firm into the certified
    stage that the row's own certificate placed it in (`crm.excel.placements`).
    """
    with audit_source(context.source, context.actor_id):
        for row in rows:
            for table, key, _row_id, values, _old in row.children:
                if table != TABLE:
                    continue
                _, _, issued, estimated = key
                record_certificate(
                    row.firm_id,
                    date.fromisoformat(issued),
                    values.get("number"),
                    "import",
                    document=values.get("document"),
                    estimated=estimated,
                    transition_id=transitions.get(row.number),
                )
