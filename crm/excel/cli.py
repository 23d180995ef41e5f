"""Commands of the import package: import a workbook, write the blank templates."""

from pathlib import Path

import click
from flask import current_app

from crm.certification.rules import DUTY_KINDS
from crm.core import clock
from crm.core.permissions import is_editor
from crm.excel import annotate, blanks, columns, queries, services, sheets, years
from crm.excel.apply import ImportRefused
from crm.extensions import db
from crm.firms import rules as firm_rules
from crm.jobs.queue import JobError
from crm.pipeline.rules import ENTRY_REASONS

#: Problems printed before "……" (the annotated file has all of them).
SHOWN_ISSUES = 30


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(import_command)
    group.add_command(templates_command)


def _imports_folder() -> Path:
    return Path(current_app.root_path).parent / "imports"


@click.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(sorted(columns.KINDS)), required=True, help="导入类型。")
@click.option("--dry-run", is_flag=True, help="只预检，不写入。")
@click.option("--valid-only", is_flag=True, help="有错误的行不导入，其余照常导入。")
@click.option("--sheet", help="工作表名称；默认自动选择。")
@click.option("--tier", type=click.Choice(sorted(firm_rules.TIERS)), help="资质名单的默认资质。")
@click.option(
    "--entry-reason",
    type=click.Choice([str(code) for code in ENTRY_REASONS]),
    help="高企后备库入库名单的默认入库理由（序号）。",
)
@click.option("--duty-kind", type=click.Choice(sorted(DUTY_KINDS)), help="年报填报名单的默认报表。")
@click.option(
    "--year",
    type=click.IntRange(1980, 2099),
    help="列名未注明年度的年度指标列（如「职工总数」）所属年度；年报填报名单为默认报告年度。",
)
@click.option("--user", "username", help="以该用户的身份和权限导入；默认不限范围。")
def import_command(
    path, kind, dry_run, valid_only, sheet, tier, entry_reason, duty_kind, year, username
) -> None:
    """Dry-run a workbook and, unless --dry-run, import it (a relative PATH may be in imports/)."""
    if not path.exists() and (_imports_folder() / path).exists():
        path = _imports_folder() / path
    if not path.is_file():
        raise click.ClickException(f"找不到文件：{path}")
    user = None
    if username:
        user = queries.user_named(username)
        if user is None or not is_editor(user):
            raise click.ClickException(f"用户 {username} 不存在或无权导入")
    given = {
        "sheet": sheet,
        "tier": tier,
        "entry_reason": entry_reason,
        "duty_kind": duty_kind,
        "year": year,
    }
    options = {k: v for k, v in given.items() if v}
    batch = services.start_import_from_path(kind, path, user, options)
    annotated = path.with_name(annotate.result_name(path.name))
    try:
        services.run_preview(batch, annotated=annotated)
    except JobError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(services.summary(batch.counts, False))
    used = sheets.described(batch)
    if used:
        click.echo(f"  {used}（可用 --sheet 指定）")
    for line in years.not_imported(batch.columns or []):
        click.echo(f"  未导入的列：{line}")
    if any(c.get("needs_year") for c in batch.columns or []):
        click.echo("  请用 --year 指定这些列的年度后重新运行")
    for line in years.years_taken(batch.columns or []):
        click.echo(f"  年度：{line}")
    issues = list(queries.row_issues(batch))
    for number, letter, level, message in issues[:SHOWN_ISSUES]:
        where = f"第 {number} 行" + (f" {letter} 列" if letter else "")
        click.echo(f"  {'错误' if level == 'error' else '提示'}：{where}：{message}")
    if len(issues) > SHOWN_ISSUES:
        click.echo(f"  ……共 {len(issues)} 处问题")
    if annotated.exists():
        click.echo(f"已生成标注了问题的文件：{annotated}")
    if dry_run:
        db.session.commit()
        click.echo(f"预检结果已保存为导入批次 #{batch.id}（未写入企业数据）。")
        return
    batch.options = {**batch.options, "valid_only": valid_only}
    try:
        services.run_apply(batch)
    except ImportRefused as error:
        db.session.commit()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(services.summary(batch.counts, True) + f"（导入批次 #{batch.id}）")


@click.command("templates")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path),
    help="输出目录；默认是项目的 imports/ 目录。",
)
def templates_command(folder) -> None:
    """Write the blank import template of every kind."""
    written = blanks.write_all(folder or _imports_folder(), clock.today().year - 1)
    for path in written:
        click.echo(f"已生成 {path}")
