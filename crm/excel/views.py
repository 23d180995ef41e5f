"""Pages of the import blueprint: upload, the dry run with its mapping, apply, history, undo.

Account managers and administrators import; a batch is seen by the user who uploaded it and by
administrators only (anyone else gets 404). The heavy work runs as background jobs; the pages
queue them and show their progress.
"""

from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from crm.core import clock
from crm.core.forms import whole_numbers
from crm.core.permissions import EDITOR_ROLES, owns_or_admin, roles_required

# exports registers the import history's export; firm_figures registers the reader of a firm's
# own workbook of yearly figures (crm.firms.figures), which the portal uses.
from crm.excel import (
    blanks,
    columns,
    exports,  # noqa: F401
    firm_figures,  # noqa: F401
    queries,
    retention,
    services,
    sheets,
    years,
)
from crm.excel.forms import (
    UNIT_CHOICES,
    ApplyForm,
    ConfirmForm,
    MappingForm,
    SheetForm,
    UploadForm,
    YearForm,
    column_choices,
)
from crm.excel.models import ROW_ACTIONS, ImportBatch
from crm.excel.stored import Describer
from crm.extensions import db
from crm.jobs import files

bp = Blueprint("excel", __name__, url_prefix="/imports")

ROWS_PER_PAGE = 100
HISTORY_PER_PAGE = 30


def load_batch(batch_id: int) -> ImportBatch:
    """Load a batch the current user may see: their own, or any for an administrator."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or not owns_or_admin(current_user, batch.created_by_id):
        abort(404)
    return batch


def _upload_form(**kwargs) -> UploadForm:
    return UploadForm([m.name for m in services.mapping_names()], **kwargs)


@bp.context_processor
def import_helpers() -> dict:
    """Give the import templates the Chinese labels of the kinds."""
    return {"kind_labels": {code: kind.label for code, kind in columns.KINDS.items()}}


@bp.get("/", endpoint="list")
@roles_required(*EDITOR_ROLES)
def index():
    """Show the upload form, the blank templates and the user's import history."""
    return render_template(
        "excel/list.html",
        form=_upload_form(formdata=None),
        kinds=columns.KINDS.values(),
        history=queries.batch_history(
            current_user, request.args.get("page", 1, type=int), HISTORY_PER_PAGE
        ),
    )


@bp.post("/", endpoint="new")
@roles_required(*EDITOR_ROLES)
def upload():
    """Store the uploaded workbook and queue its dry run."""
    form = _upload_form()
    valid, status = form.validate_on_submit(), 400
    if valid:
        try:
            retention.check_upload_allowed(current_user)
        except retention.UploadLimitReached as error:
            form.file.errors.append(str(error))
            valid, status = False, 429
    if not valid:
        return render_template(
            "excel/list.html",
            form=form,
            kinds=columns.KINDS.values(),
            history=queries.batch_history(current_user, 1, HISTORY_PER_PAGE),
        ), status
    batch = services.start_import(form.kind.data, form.file.data, current_user, form.options())
    db.session.commit()
    return redirect(url_for("excel.detail", batch_id=batch.id))


@bp.get("/<int:batch_id>")
@roles_required(*EDITOR_ROLES)
def detail(batch_id: int):
    """Show a batch: its job's progress, or the dry run (mapping, counts, rows), or the result."""
    batch = load_batch(batch_id)
    action = request.args.get("show") or None
    if action not in (None, "issues", *ROW_ACTIONS):
        action = None
    rows = queries.batch_rows(batch, action, request.args.get("page", 1, type=int), ROWS_PER_PAGE)
    job = batch.job
    kind = columns.KINDS[batch.kind]
    renames = queries.renames(batch) if batch.status == "previewed" else []
    return render_template(
        "excel/detail.html",
        batch=batch,
        kind=kind,
        job=job,
        busy=job is not None and not job.is_finished,
        failed=job is not None and job.status == "failed",
        rows=rows,
        renames=renames,
        show=action,
        actions=ROW_ACTIONS,
        action_tabs=[(None, "全部"), ("issues", "有问题"), *ROW_ACTIONS.items()],
        annotated=queries.annotated_job(batch),
        annotating=queries.annotating_job(batch),
        can_annotate=services.has_issues(batch) and batch.file_removed_at is None,
        annotate_form=ConfirmForm(formdata=None),
        mapping_form=MappingForm(formdata=None),
        year_form=YearForm(formdata=None),
        sheet_form=_sheet_form(batch),
        sheets_used=sheets.described(batch),
        not_imported=years.not_imported(batch.columns or []),
        years_taken=years.years_taken(batch.columns or []),
        needs_year=any(c.get("needs_year") for c in batch.columns or []),
        apply_form=ApplyForm(formdata=None),
        undo_form=ConfirmForm(formdata=None),
        unit_choices=UNIT_CHOICES,
        changes_of=Describer().changes,
    )


def _sheet_form(batch: ImportBatch) -> SheetForm | None:
    """Return the form offering the workbook's other sheets, or None when there is none."""
    offered = sheets.offered(batch)
    if batch.status != "previewed" or not offered:
        return None
    form = SheetForm(formdata=None)
    form.sheet.choices = [(s["name"], s["name"]) for s in offered]
    return form


@bp.get("/<int:batch_id>/annotated")
@roles_required(*EDITOR_ROLES)
def annotated(batch_id: int):
    """Send the uploaded sheet back with each row's result and the faulty cells marked."""
    batch = load_batch(batch_id)
    job = queries.annotated_job(batch)
    if job is None:
        abort(404)
    return send_file(files.result_path(job), as_attachment=True, download_name=job.result_name)


@bp.post("/<int:batch_id>/annotated")
@roles_required(*EDITOR_ROLES)
def annotate(batch_id: int):
    """Queue the writing of the annotated copy (again: it failed, or its file was cleaned up)."""
    batch = load_batch(batch_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _queued(
        batch,
        lambda: services.queue_annotated(batch, current_user),
        "正在生成标注了问题的原表，完成后可在本页下载。",
    )


def _queued(batch, queue_job, done: str | None = None):
    """Queue a batch's job, commit, and go back to the batch; a refusal is flashed instead."""
    try:
        queue_job()
    except services.ImportRequestError as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        if done:
            flash(done, "info")
    return redirect(url_for("excel.detail", batch_id=batch.id))


@bp.post("/<int:batch_id>/mapping")
@roles_required(*EDITOR_ROLES)
def mapping(batch_id: int):
    """Re-run the dry run with the corrected mapping, saving it as a template if named."""
    batch = load_batch(batch_id)
    form = MappingForm()
    if not form.validate_on_submit():
        abort(400)
    chosen, errors = column_choices(columns.KINDS[batch.kind], batch.columns or [], request.form)
    if errors:
        for error in errors:
            flash(error, "danger")
        return redirect(url_for("excel.detail", batch_id=batch.id))
    return _queued(
        batch,
        lambda: services.request_remap(batch, current_user, chosen, form.save_as.data or ""),
        "已按新的对应关系重新预检。",
    )


@bp.post("/<int:batch_id>/sheet")
@roles_required(*EDITOR_ROLES)
def sheet(batch_id: int):
    """Re-run the dry run on another sheet of the workbook."""
    batch = load_batch(batch_id)
    form = SheetForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = form.sheet.data
    return _queued(
        batch,
        lambda: services.request_sheet(batch, current_user, chosen),
        f"已改用工作表「{chosen}」重新预检。",
    )


@bp.post("/<int:batch_id>/year")
@roles_required(*EDITOR_ROLES)
def year(batch_id: int):
    """Re-run the dry run with the year of the yearly columns whose header names none."""
    batch = load_batch(batch_id)
    form = YearForm()
    if not form.validate_on_submit():
        for error in form.year.errors or ["请重新提交"]:
            flash(error, "danger")
        return redirect(url_for("excel.detail", batch_id=batch.id))
    chosen = form.year.data
    return _queued(
        batch,
        lambda: services.request_year(batch, current_user, chosen),
        f"已按 {chosen} 年重新预检。",
    )


@bp.post("/<int:batch_id>/apply")
@roles_required(*EDITOR_ROLES)
def apply(batch_id: int):
    """Queue the apply of a previewed batch."""
    batch = load_batch(batch_id)
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    confirmed = whole_numbers(request.form.getlist("confirm"))
    return _queued(
        batch,
        lambda: services.request_apply(
            batch, current_user, valid_only=bool(form.valid_only.data), confirmed=confirmed
        ),
    )


@bp.post("/<int:batch_id>/undo")
@roles_required(*EDITOR_ROLES)
def undo(batch_id: int):
    """Queue the undo of an applied batch."""
    batch = load_batch(batch_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _queued(batch, lambda: services.request_undo(batch, current_user))


@bp.get("/templates/<kind>")
@roles_required(*EDITOR_ROLES)
def template(kind: str):
    """Send the blank template of an import kind."""
    definition = columns.KINDS.get(kind)
    if definition is None:
        abort(404)
    data = blanks.build(definition, clock.today().year - 1)
    return send_file(
        BytesIO(data),
        as_attachment=True,
        download_name=blanks.filename(definition),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
