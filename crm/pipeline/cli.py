"""Commands of the pipeline package."""

import time

import click

from crm.extensions import db
from crm.pipeline import summary


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(rebuild_funnel_command)


@click.command("rebuild-funnel")
def rebuild_funnel_command() -> None:
    """Compute the funnel summary of every firm again from its enrollments and transitions."""
    started = time.perf_counter()
    firms = summary.rebuild(db.session.connection())
    db.session.commit()
    click.echo(
        f"已重新汇总 {firms} 家企业的培育进程（用时 {time.perf_counter() - started:.1f} 秒）。"
    )
