"""Commands of the eligibility package."""

import time

import click
from sqlalchemy import func, select

from crm.core import clock
from crm.core.audit import audit_source
from crm.eligibility.services import refresh_assessments, settings_in_force
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
    help="只重新评估这家企业（可重复）；默认评估全部企业。",
)
def assess_command(firm_ids: tuple[int, ...]) -> None:
    """Recompute the stored pre-assessments of every firm, or of the firms given."""
    started = time.perf_counter()
    today = clock.today()
    with audit_source("cli"):
        version = settings_in_force(today)
        written = refresh_assessments(list(firm_ids) or None, today)
        stmt = select(func.count(Firm.id)).where(Firm.deleted_at.is_(None))
        if firm_ids:
            stmt = stmt.where(Firm.id.in_(firm_ids))
        assessed = db.session.scalar(stmt)
        db.session.commit()
    click.echo(
        f"已按第 {version.id} 版评估参数重新评估企业 {assessed} 家，"
        f"其中 {written} 家的评估结果有更新（用时 {time.perf_counter() - started:.1f} 秒）。"
    )
