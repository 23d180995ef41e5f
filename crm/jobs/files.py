"""The files that jobs produce, kept in a folder that web processes serve for download."""

import shutil
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from crm.extensions import db
from crm.jobs.models import Job

#: Result files the running handlers announced, recorded when the job is done.
_result_files: dict[int, tuple[str, str]] = {}


def files_folder() -> Path:
    """Return the folder that keeps the files jobs produce (instance/jobs unless configured)."""
    configured = current_app.config.get("JOB_FILES_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "jobs"


def job_folder(job_id: int) -> Path:
    """Return the folder that keeps one job's files."""
    return files_folder() / str(job_id)


def result_file(job: Job, name: str) -> Path:
    """Return where the handler writes the job's file; the user downloads it as `name`.

    The row learns of the file when the job is done, so the handler's transaction never locks
    the job row (progress writes go to that row from another connection).
    """
    folder = job_folder(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    filename = "result" + Path(name).suffix.lower()
    _result_files[job.id] = (f"{job.id}/{filename}", name)
    return folder / filename


def result_path(job: Job) -> Path | None:
    """Return the job's file on disk, if it produced one and the file is still there."""
    if not job.result_path:
        return None
    root = files_folder().resolve()
    path = (root / job.result_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def announced_file(job_id: int) -> tuple[str, str] | None:
    """Return the file (path in the folder, download name) a running job announced, if any."""
    return _result_files.get(job_id)


def forget_announced(job_id: int) -> None:
    """Forget the file a job announced; the runner calls this when the job ends."""
    _result_files.pop(job_id, None)


def remove_files(job_id: int) -> None:
    """Delete the files of a job that did not finish."""
    shutil.rmtree(job_folder(job_id), ignore_errors=True)


def remove_files_before(cutoff: datetime) -> int:
    """Delete the files of jobs that finished before `cutoff`; return how many; flush.

    The job keeps its row; its page no longer offers the file.
    """
    jobs = db.session.scalars(
        select(Job).where(Job.result_path.is_not(None), Job.finished_at < cutoff)
    ).all()
    for job in jobs:
        remove_files(job.id)
        job.result_path = None
    db.session.flush()
    return len(jobs)
