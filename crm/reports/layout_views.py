"""Pages of the government layouts (上报报表): pick a layout, set its parameters, download it;
administrators choose each layout's columns.

Staff download within their reach (a manager's workbook holds only their firms); enterprise
users get 404 here, and staff other than administrators get 403 on the column pages.
"""

from collections.abc import Callable
from functools import wraps
from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from crm.certification import queries as certification_queries
from crm.certification.models import CertificationBatch
from crm.core import clock
from crm.core.permissions import is_admin
from crm.extensions import db
from crm.firms.queries import firm_choices_data
from crm.reports import layouts
from crm.reports.layout_columns import LAYOUTS, Layout
from crm.reports.layout_forms import ParamsForm, TemplateForm, column_choice, moved

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND_LABELS = {
    "text": "文字",
    "code": "文本（代码）",
    "date": "日期",
    "money": "金额（万元）",
    "count": "数量",
    "number": "数字",
    "percent": "百分比",
}


def staff_required(view: Callable) -> Callable:
    """Let the bureau's staff in; an enterprise user gets 404, as on every staff page."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable) -> Callable:
    """Let administrators in; other staff get 403, enterprise users 404."""

    @wraps(view)
    @staff_required
    def wrapped(*args, **kwargs):
        if not is_admin(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _layout(key: str) -> Layout:
    layout = LAYOUTS.get(key)
    if layout is None:
        abort(404)
    return layout


def _params_form(layout: Layout, formdata) -> ParamsForm:
    return ParamsForm(
        formdata,
        layout,
        today=clock.today(),
        batches=[(b.id, b.label) for b in certification_queries.batches()],
        districts=firm_choices_data()["districts"],
    )


def _headers(layout: Layout) -> list[str]:
    return [layout.column(key).header for key in layouts.shown_keys(layout)]


@staff_required
def index():
    """List the layouts with the columns each shows."""
    rows = [(layout, _headers(layout)) for layout in LAYOUTS.values()]
    return render_template("reports/layouts/list.html", rows=rows)


@staff_required
def detail(layout_key: str):
    """Show a layout's parameters to download it with."""
    layout = _layout(layout_key)
    form = _params_form(layout, None)
    return render_template(
        "reports/layouts/detail.html", layout=layout, form=form, headers=_headers(layout)
    )


@staff_required
def download(layout_key: str):
    """Build the layout for the parameters in the query string and send it."""
    layout = _layout(layout_key)
    form = _params_form(layout, request.args)
    if not form.validate():
        page = render_template(
            "reports/layouts/detail.html", layout=layout, form=form, headers=_headers(layout)
        )
        return page, 400
    params = form.params()
    batch = db.session.get(CertificationBatch, params.batch_id) if params.batch_id else None
    buffer = BytesIO()
    built = layouts.build(
        layout,
        params,
        current_user,
        buffer,
        today=clock.today(),
        filler=form.filler.data or "",
        batch=batch,
    )
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name=built.filename, mimetype=XLSX)


def _edit_page(
    layout: Layout,
    form: TemplateForm,
    order: list[str],
    shown: set[str],
    status=200,
    *,
    pending=False,
):
    page = render_template(
        "reports/layouts/edit.html",
        layout=layout,
        form=form,
        columns=[layout.column(key) for key in order],
        shown=shown,
        kind_labels=KIND_LABELS,
        customised=layouts.template_of(layout) is not None,
        pending=pending,
    )
    return page, status


@admin_required
def edit(layout_key: str):
    """Choose the columns a layout shows and their order; the arrows work without JavaScript."""
    layout = _layout(layout_key)
    form = TemplateForm()
    if request.method == "GET":
        keys = layouts.shown_keys(layout)
        choice = column_choice(layout, keys, keys)
        return _edit_page(layout, form, choice.order, choice.shown)
    choice = column_choice(layout, request.form.getlist("order"), request.form.getlist("shown"))
    if move := request.form.get("move"):
        # An arrow pressed without JavaScript: show the new order, saved with 保存.
        order = moved(choice.order, move)
        if order is None:
            form.form_errors.append("无法识别要移动的列，请重新操作。")
            return _edit_page(layout, form, choice.order, choice.shown, 400)
        return _edit_page(layout, form, order, choice.shown, pending=True)
    try:
        layouts.save_template(layout, choice.keys, current_user)
    except layouts.TemplateError as error:
        form.form_errors.append(str(error))
        return _edit_page(layout, form, choice.order, choice.shown, 400)
    db.session.commit()
    flash(f"已保存「{layout.name}」的列设置。", "success")
    return redirect(url_for("layouts.detail", layout_key=layout.key))


@admin_required
def reset(layout_key: str):
    """Restore a layout's built-in columns."""
    layout = _layout(layout_key)
    layouts.restore_default(layout)
    db.session.commit()
    flash(f"「{layout.name}」已恢复默认列。", "success")
    return redirect(url_for("layouts.edit", layout_key=layout.key))
