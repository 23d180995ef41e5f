"""Commands of the certification package."""

import click

from crm.certification.services import lapse_expired_certificates
from crm.core import clock
from crm.core.audit import audit_source
from crm.extensions import db


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(lapse_command)


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
