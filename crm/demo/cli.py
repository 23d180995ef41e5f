"""The `flask crm demo` command: load the demo data once and print the demo logins."""

import time

import click
from flask import current_app
from sqlalchemy import func, select

from crm.core import clock
from crm.core.audit import audit_source
from crm.demo.generator import DEFAULT_SEED, generate_demo
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


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(demo_command)


@click.command("demo")
@click.option(
    "--firms",
    default=300,
    show_default=True,
    type=click.IntRange(1, 20000),
    help="演示企业数量。",
)
@click.option(
    "--seed",
    default=DEFAULT_SEED,
    show_default=True,
    type=int,
    help="随机种子（相同种子生成相同数据）。",
)
def demo_command(firms: int, seed: int) -> None:
    """Load demo firms and accounts for the configured city, once; print the demo logins."""
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
            summary = generate_demo(city, firms, seed, clock.today())
            logins = fresh = summary.logins
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
            f"年报记录 {summary.duties} 条、"
            f"账号 {summary.users} 个"
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
