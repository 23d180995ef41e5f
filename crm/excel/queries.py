"""Read-side selects of the importer: a user's batches, the rows of a batch, and their issues."""

from collections.abc import Iterator

from sqlalchemy import Select, select

from crm.accounts.models import User
from crm.core.permissions import is_admin
from crm.core.web import Page, paginate
from crm.excel.models import ImportBatch, ImportRow
from crm.extensions import db
from crm.jobs import files
from crm.jobs.models import Job


def batches_seen(user) -> Select:
    """Return the select of the batches `user` may see (their own; every one for an admin),
    the latest first."""
    stmt = select(ImportBatch).order_by(ImportBatch.id.desc())
    if not is_admin(user):
        stmt = stmt.where(ImportBatch.created_by_id == user.id)
    return stmt


def batch_history(user, number: int, per_page: int) -> Page:
    """Return one page of the batches `user` may see (their own; every one for an admin)."""
    return paginate(batches_seen(user), number, per_page)


def batch_rows(batch: ImportBatch, action: str | None, number: int, per_page: int) -> Page:
    """Return one page of a batch's rows: all, those with issues, or those of one action."""
    stmt = select(ImportRow).where(ImportRow.batch_id == batch.id)
    if action == "issues":
        stmt = stmt.where(ImportRow.issues.is_not(None))
    elif action:
        stmt = stmt.where(ImportRow.action == action)
    return paginate(stmt.order_by(ImportRow.row_number), number, per_page)


def renames(batch: ImportBatch) -> list[ImportRow]:
    """Return the rows of a batch that would rename a firm, in sheet order."""
    return list(
        db.session.scalars(
            select(ImportRow)
            .where(ImportRow.batch_id == batch.id, ImportRow.action == "rename")
            .order_by(ImportRow.row_number)
        )
    )


def annotated_job(batch: ImportBatch) -> Job | None:
    """Return the job that wrote the batch's annotated copy, if the file is still there."""
    job_id = (batch.options or {}).get("annotated_job_id")
    job = db.session.get(Job, job_id) if job_id else None
    return job if job is not None and files.result_path(job) is not None else None


def annotating_job(batch: ImportBatch) -> Job | None:
    """Return the job queued or running to write the batch's annotated copy, if any."""
    job_id = (batch.options or {}).get("annotated_job_id")
    job = db.session.get(Job, job_id) if job_id else None
    return job if job is not None and not job.is_finished else None


def row_issues(batch: ImportBatch) -> Iterator[tuple[int, str, str, str]]:
    """Yield (row number, column letter, level, message) of every issue of a batch, in order."""
    rows = db.session.execute(
        select(ImportRow.row_number, ImportRow.issues)
        .where(ImportRow.batch_id == batch.id, ImportRow.issues.is_not(None))
        .order_by(ImportRow.row_number)
    )
    for number, issues in rows:
        for letter, level, message in issues:
            yield number, letter, level, message


def user_named(username: str) -> User | None:
    """Return the user with `username`, if any."""
    return db.session.scalar(select(User).filter_by(username=username))
