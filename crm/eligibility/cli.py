"""Commands of the eligibility package."""

import time

import click
from sqlalchemy import func, select

from crm.core import clock
from crm.core.audit import audit_source
from crm.eligibility.services import reassess_due, refresh_assessments, settings_in_force
from crm.extensions import db
from crm.firms.models import Firm


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(assess_command)


@click.command("assess")
@click.option(
    "--firm-id",
    "firm_ids",
    multiple=True,
    type=int,
    help="只重新评估这家企业（可重复）。",
)
@click.option(
    "--all",
    "every_firm",
    is_flag=True,
    help="重新计算全部企业；默认只重新评估因日期变化（满一年、证书生效或到期、新年度、"
    "新评估参数生效）可能改变结果的企业。",
)
def assess_command(firm_ids: tuple[int, ...], every_firm: bool) -> None:
    """Run the daily scan of stored pre-assessments, or recompute every firm or the firms given."""
    started = time.perf_counter()
    today = clock.today()
    with audit_source("cli"):
        version = settings_in_force(today)
        if firm_ids or every_firm:
            written = refresh_assessments(list(firm_ids) or None, today)
            stmt = select(func.count(Firm.id)).where(Firm.deleted_at.is_(None))
            if firm_ids:
                stmt = stmt.where(Firm.id.in_(firm_ids))
            checked = recomputed = db.session.scalar(stmt)
        else:
            scan = reassess_due(today)
            checked, recomputed, written = scan.checked, scan.recomputed, scan.written
        db.session.commit()
    click.echo(
        f"已按第 {version.id} 版评估参数检查企业 {checked} 家，重新评估 {recomputed} 家，"
        f"其中 {written} 家的评估结果有更新（用时 {time.perf_counter() - started:.1f} 秒）。"
    )
