"""Commands of the certification package."""

from datetime import date

import click

from crm.certification import duties
from crm.certification.services import lapse_expired_certificates
from crm.core import clock
from crm.core.audit import audit_source
from crm.extensions import db


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(lapse_command)
    group.add_command(duties_command)


@click.command("lapse-certificates")
def lapse_command() -> None:
    """Move every certified firm whose certificate has expired into 资格到期 (idempotent)."""
    today = clock.today()
    with audit_source("cli"):
        lapses = lapse_expired_certificates(today)
        db.session.commit()
    moved = [lapse for lapse in lapses if not lapse.refusal]
    click.echo(
        f"证书有效期已届满、转入“资格到期”的企业 {len(moved)} 家（截至 {today.isoformat()}）。"
    )
    for lapse in lapses:
        if lapse.refusal:
            click.echo(f"  企业 {lapse.firm_id} 未能转入：{'；'.join(lapse.refusal)}", err=True)


@click.command("open-duties")
@click.option("--year", type=click.IntRange(2000, 2100), help="报告年度；默认为上一年度。")
def duties_command(year) -> None:
    """Open the yearly reports certified firms owe (the worker does it daily; idempotent)."""
    today = clock.today()
    year = year or today.year - 1
    if today <= date(year, 12, 31):
        raise click.ClickException(f"{year} 年度尚未结束，年报尚未开始填报")
    opened = duties.open_duties(year, today)
    db.session.commit()
    click.echo(f"已为 {year} 年度新增应填报的年报记录 {opened} 条。")
