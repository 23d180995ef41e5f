"""Commands of the reminders package: `flask crm remind`."""

from datetime import date

import click

from crm.core import clock
from crm.core.audit import audit_source
from crm.extensions import db
from crm.reminders.scan import scan


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(remind_command)


def _date(ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"“{value}”不是日期，请按 YYYY-MM-DD 填写") from None


@click.command("remind")
@click.option("--date", "on", callback=_date, help="按此日期扫描（YYYY-MM-DD）；默认为今天。")
@click.option("--dry-run", is_flag=True, help="只显示将新建和关闭的提醒，不保存。")
def remind_command(on: date | None, dry_run: bool) -> None:
    """Run the reminder scan now (the worker runs it every hour; idempotent)."""
    on = on or clock.today()
    with audit_source("cli"):
        results = scan(on)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    verb = "将新建" if dry_run else "新建"
    close = "将关闭" if dry_run else "关闭"
    head = "提醒扫描（试运行，未保存）" if dry_run else "提醒扫描"
    click.echo(f"{head}：{on.isoformat()}")
    for item in results:
        if not item.enabled:
            click.echo(f"  {item.label}：已停用，{close}未完成的提醒 {item.closed} 条")
            continue
        line = f"  {item.label}：{verb} {item.created} 条"
        if item.closed or item.superseded:
            line += f"，{close}不再适用的 {item.closed} 条、被新提醒取代的 {item.superseded} 条"
        click.echo(line)
    total = sum(item.created for item in results)
    click.echo(f"合计{verb}提醒 {total} 条。")
