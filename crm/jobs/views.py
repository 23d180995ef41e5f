"""The page of a background job: its progress while it runs, its outcome and file when it ends.

Only the user who started a job, or an administrator, may follow it; anyone else gets 404.
"""

from typing import Any

from flask import Blueprint, abort, g, make_response, render_template, request, send_file
from flask_login import current_user, login_required

from crm.core.permissions import owns_or_admin
from crm.extensions import db
from crm.jobs.files import result_path
from crm.jobs.models import Job
from crm.jobs.progress import shown_progress

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def get_visible_job(job_id: int) -> Job:
    """Load a job the current user may follow (its creator, or an admin), or answer 404."""
    job = db.session.get(Job, job_id)
    if job is None or not owns_or_admin(current_user, job.created_by_id):
        abort(404)
    return job


def _next_url(job: Job) -> str | None:
    # The handler's result may name the page to go on to; else the payload, set when queued.
    url = (job.result or {}).get("next_url") or (job.payload or {}).get("next_url")
    # Only a path on this site: the payload is written by our code, but a link is a link.
    if (
        isinstance(url, str)
        and url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
    ):
        return url
    return None


def progress_context(job: Job) -> dict[str, Any]:
    """Return what the progress partial shows of `job`."""
    percent, text = shown_progress(job)
    return {
        "job": job,
        "percent": percent,
        "progress_text": text,
        "has_file": job.status == "done" and result_path(job) is not None,
        "next_url": _next_url(job) if job.is_finished else None,
        "next_label": (job.result or {}).get("next_label")
        or (job.payload or {}).get("next_label")
        or "继续",
    }


@bp.get("/<int:job_id>")
@login_required
def detail(job_id: int):
    """Show a job, its progress bar and, once it ends, its message and file."""
    job = get_visible_job(job_id)
    return render_template("jobs/detail.html", **progress_context(job))


@bp.get("/<int:job_id>/progress")
@login_required
def progress(job_id: int):
    """Return the progress partial, which polls again until the job has ended.

    A page showing the job's work itself (an import batch) asks with `reload=1`, and is
    reloaded by htmx once the job has ended.
    """
    job = get_visible_job(job_id)
    g.no_store = True
    reload = bool(request.args.get("reload"))
    response = make_response(
        render_template("jobs/_progress.html", **progress_context(job), reload=reload)
    )
    if job.is_finished and reload:
        response.headers["HX-Refresh"] = "true"
    return response


@bp.get("/<int:job_id>/result")
@login_required
def result(job_id: int):
    """Send the file the job produced, under its Chinese name."""
    job = get_visible_job(job_id)
    path = result_path(job) if job.status == "done" else None
    if path is None:
        abort(404)
    g.no_store = True
    return send_file(path, as_attachment=True, download_name=job.result_name or path.name)
