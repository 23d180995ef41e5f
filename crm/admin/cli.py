"""Commands of administration: create a user account."""

import click
from flask.cli import with_appcontext

from crm.accounts import services
from crm.accounts.models import ROLES
from crm.admin import services as admin_services
from crm.core.audit import audit_source
from crm.extensions import db


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(create_user_command)


@click.command("create-user")
@click.option("--username", required=True, help="登录名（3–64 位小写字母、数字或 _ . -）。")
@click.option("--name", required=True, help="姓名。")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="角色。")
@click.option(
    "--password",
    prompt="密码",
    hide_input=True,
    confirmation_prompt="再次输入密码",
    help="密码；不提供时交互输入。",
)
@click.option("--email", default=None, help="电子邮箱。")
@click.option(
    "--district", "districts", multiple=True, help="负责的县（市、区）代码，可重复（服务专员）。"
)
@click.option("--firm-uscc", default=None, help="所属企业的统一社会信用代码（企业用户）。")
@with_appcontext
def create_user_command(username, name, role, password, email, districts, firm_uscc) -> None:
    """Create a user account."""
    with audit_source("cli"):
        try:
            user = services.create_user(
                username=username,
                name=name,
                role=role,
                password=password,
                email=email,
                districts=services.districts_by_code(districts),
                firm=admin_services.resolve_firm(firm_uscc),
            )
        except services.AccountError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from error
        db.session.commit()
    click.echo(f"已创建用户 {user.username}（{user.role_label}）。")
