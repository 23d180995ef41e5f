"""The `flask crm` command group; each domain adds its commands here."""

import click
from flask import current_app
from flask.cli import AppGroup

from crm.core.audit import audit_source
from crm.core.database import write_transactions
from crm.extensions import db


class _CommandGroup(AppGroup):
    """The group of `flask crm` commands, whose transactions are opened ready to write."""

    def invoke(self, ctx: click.Context):
        with write_transactions():
            return super().invoke(ctx)


crm_group = _CommandGroup("crm", help="科技企业培育 CRM 管理命令。")


@crm_group.command("seed")
def seed_command() -> None:
    """Create the reference data of the configured city (idempotent)."""
    from crm.admin.services import seed_reference_data

    with audit_source("cli"):
        created = seed_reference_data(current_app.config["CITY"])
        db.session.commit()
    click.echo(f"参考数据已就绪（新增 {created} 条）。")


def register_domain_commands() -> None:
    """Attach the commands that live in domain packages."""
    from crm.admin import cli as admin_cli
    from crm.certification import cli as certification_cli
    from crm.demo import cli as demo_cli
    from crm.eligibility import cli as eligibility_cli
    from crm.excel import cli as excel_cli
    from crm.jobs import cli as jobs_cli
    from crm.pipeline import cli as pipeline_cli
    from crm.reminders import cli as reminders_cli

    admin_cli.register(crm_group)
    certification_cli.register(crm_group)
    demo_cli.register(crm_group)
    eligibility_cli.register(crm_group)
    excel_cli.register(crm_group)
    jobs_cli.register(crm_group)
    pipeline_cli.register(crm_group)
    reminders_cli.register(crm_group)


register_domain_commands()
