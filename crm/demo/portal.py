"""The demo's requests from firms: a few changes the firms' own users proposed in the portal,
waiting in their managers' review queue."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from crm.accounts.models import User
from crm.core.permissions import ENTERPRISE
from crm.extensions import db
from crm.firms.models import FirmYear
from crm.portal import services
from crm.portal.changes import KINDS


def make_portal_requests(today: date) -> int:
    """File, for the first two firms with their own users, new figures for their latest year
    and a newly granted invention patent; return how many requests."""
    users = db.session.scalars(
        select(User).where(User.role == ENTERPRISE, User.firm_id.is_not(None)).order_by(User.id)
    ).all()[:2]
    filed = 0
    for user in users:
        firm = user.firm
        row = db.session.scalars(
            select(FirmYear).where(FirmYear.firm_id == firm.id).order_by(FirmYear.year.desc())
        ).first()
        if row is not None:
            proposed = {field: getattr(row, field) for field in KINDS["year"].fields}
            proposed["rd_expense"] = (row.rd_expense or Decimal(0)) + Decimal("350000")
            proposed["tech_staff"] = (row.tech_staff or 0) + 3
            services.submit(
                firm, "year", proposed, user=user, row=row, note="按年度审计报告更正研发费用"
            )
            filed += 1
        services.submit(
            firm,
            "ip",
            {
                "kind": "invention",
                "number": f"ZL{today.year - 1}1{firm.id:07d}.X",
                "title": "一种智能检测装置及其控制方法",
                "granted_on": date(today.year, 1, 15),
                "status": "valid",
                "acquisition": "own",
            },
            user=user,
            note="新授权发明专利，证书见附件",
        )
        filed += 1
    db.session.flush()
    return filed
