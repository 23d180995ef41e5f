"""The `flask crm demo` command: load the demo data once and print the demo logins."""

import time

import click
from flask import current_app
from sqlalchemy import func, select

from crm.accounts.models import User
from crm.core import clock
from crm.core.audit import audit_source
from crm.core.permissions import ENTERPRISE
from crm.dashboard.targets import seed_doubling_plan
from crm.demo.generator import DEFAULT_SEED, DemoSummary, generate_demo
from crm.demo.helpers import DrawsExhausted
from crm.demo.logins import (
    DemoLogin,
    demo_present,
    logins_path,
    logins_work,
    read_logins,
    reset_demo_passwords,
    shown_logins,
    write_logins,
)
from crm.extensions import db
from crm.firms.models import Firm
from crm.reference.cities import CITIES
from crm.reminders import rules
from crm.reminders.models import Reminder
from crm.reminders.scan import scan

#: The largest demo: the size the performance budgets are measured at.
MAX_FIRMS = 100_000
MAX_ACTIVITIES = 2_000_000
#: Firms between two progress lines of a large demo.
PROGRESS_EVERY = 10_000


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(demo_command)


@click.command("demo")
@click.option(
    "--firms",
    default=300,
    show_default=True,
    type=click.IntRange(1, MAX_FIRMS),
    help="演示企业数量。",
)
@click.option(
    "--activities",
    type=click.IntRange(0, MAX_ACTIVITIES),
    help="走访记录总数：不足时为企业补充较早的联系记录（性能测试用，如 10 万家企业配 100 万条）。",
)
@click.option(
    "--seed",
    default=DEFAULT_SEED,
    show_default=True,
    type=int,
    help="随机种子（相同种子生成相同数据）。",
)
def demo_command(firms: int, seed: int, activities: int | None) -> None:
    """Load demo firms and accounts for the configured city, once; print the demo logins.

    The data is committed a chunk at a time, so a large demo runs in bounded memory.
    """
    city = current_app.config["CITY"]
    path = logins_path(current_app.instance_path)
    started = time.perf_counter()
    fresh: list[DemoLogin] = []
    with audit_source("cli"):
        if demo_present():
            logins = read_logins(path)
            if not logins_work(logins):
                logins = fresh = reset_demo_passwords()
            summary = None
        else:
            summary = _generate(city, firms, seed, activities)
            logins = fresh = summary.logins
            # Today's reminders at once, so the first page shows real work; the worker's hourly
            # scan would make the same ones (it creates nothing twice).
            reminded = sum(item.created for item in scan(clock.today()))
            give_an_enterprise_login_work()
            # The doubling plan from two years back, so this year and last have targets.
            seed_doubling_plan(clock.today().year - 2)
        db.session.commit()
    if fresh:
        write_logins(path, fresh)

    if summary is not None:
        click.echo(
            f"已为{CITIES[city]['name']}生成演示数据：企业 {summary.firms} 家、"
            f"年度数据 {summary.years} 条、知识产权 {summary.ip_items} 项、"
            f"资质 {summary.qualifications} 条、高企证书 {summary.certificates} 张、"
            f"专员评估 {summary.expert_assessments} 份、"
            f"培育入库 {summary.enrollments} 个、辅导方案 {summary.coaching_plans} 份、"
            f"走访记录 {summary.activities} 条、扶持记录 {summary.support_entries} 条、"
            f"年报记录 {summary.duties} 条、企业变更申请 {summary.portal_requests} 份、"
            f"账号 {summary.users} 个、今日提醒 {reminded} 条"
            f"（用时 {time.perf_counter() - started:.1f} 秒）。"
        )
    shown = shown_logins(logins)
    if summary is None:
        count = db.session.scalar(select(func.count(Firm.id)))
        if not shown:
            click.echo(f"数据库中已有数据（企业 {count} 家），未生成演示数据；未找到演示账号。")
            return
        click.echo(f"演示数据已存在（企业 {count} 家），未重复生成。")
    click.echo("演示账号：")
    for login in shown:
        click.echo(f"  {login.role_label}：用户名 {login.username}　密码 {login.password}")
    click.echo(f"全部演示账号及密码见 {path}（仅本机可读）。")


def give_an_enterprise_login_work() -> None:
    """Make sure the first enterprise demo login (the one the command prints) has a firm the
    day's scan reminded, so its 今日待办 shows real work: it trades firms with another demo login
    that has one, or else takes the first firm with reminders of its own."""
    users = list(
        db.session.scalars(
            select(User).where(User.role == ENTERPRISE, User.firm_id.is_not(None)).order_by(User.id)
        )
    )
    if not users:
        return
    reminded = set(
        db.session.scalars(
            select(Reminder.recipient_id).where(
                Reminder.recipient_kind == rules.FIRM,
                Reminder.closed_at.is_(None),
                Reminder.done_at.is_(None),
            )
        )
    )
    first = users[0]
    if first.firm_id in reminded:
        return
    other = next((user for user in users[1:] if user.firm_id in reminded), None)
    if other is not None:
        first.firm_id, other.firm_id = other.firm_id, first.firm_id
        first.name, other.name = other.name, first.name
        first.email, other.email = other.email, first.email
    else:
        taken = {user.firm_id for user in users}
        firm = db.session.scalar(
            select(Firm)
            .where(Firm.id.in_(reminded - taken), Firm.deleted_at.is_(None))
            .order_by(Firm.id)
            .limit(1)
        )
        if firm is None:
            return
        first.firm_id = firm.id
        first.name = firm.legal_representative or first.name
    db.session.flush()


def _generate(city: str, firms: int, seed: int, activities: int | None) -> DemoSummary:
    """Generate the demo, committing each chunk and showing the progress of a large one."""
    shown = [0]

    def checkpoint(summary: DemoSummary) -> None:
        db.session.commit()
        if firms >= PROGRESS_EVERY and summary.firms >= shown[0] + PROGRESS_EVERY:
            shown[0] = summary.firms
            click.echo(f"已生成企业 {summary.firms}/{firms} 家……")

    try:
        return generate_demo(
            city, firms, seed, clock.today(), activities=activities, checkpoint=checkpoint
        )
    except DrawsExhausted as error:
        db.session.rollback()
        raise click.ClickException(
            f"{error}已生成的部分演示数据已保存，请清空数据库后重新生成。"
        ) from error
