"""Pages of the eligibility blueprint: the readiness list, the firm's 预评估 tab, the expert form.

The tab itself is a panel of the firm page (`firm_tab_context` is registered as its context in
`blueprint`); the routes here change what it shows.
"""

from typing import Any

from flask import current_app, flash, redirect, render_template, request
from flask_login import current_user, login_required

from crm.core import clock
from crm.core.permissions import STAFF_ROLES, roles_required
from crm.core.web import tab_url
from crm.eligibility import queries, services
from crm.eligibility.expert import save_expert_assessment
from crm.eligibility.facts import VERDICT_LABELS
from crm.eligibility.forms import ExpertForm, ReadinessFilterForm
from crm.extensions import db
from crm.firms.access import get_editable_firm
from crm.firms.queries import firm_choices_data

TAB = "assessment"

#: Where each sub-item's points came from.
SOURCE_LABELS = {"computed": "数据计算", "assessed": "专员评估", "open": "待评估"}


def eligibility_helpers() -> dict[str, Any]:
    """Give templates the verdict and source vocabularies."""
    return {"verdict_labels": VERDICT_LABELS, "source_labels": SOURCE_LABELS}


def firm_tab_context(firm) -> dict[str, Any]:
    """Return what the firm's 预评估 tab shows: the current assessment, unpacked."""
    assessment = services.current_assessment(firm.id)
    in_force = services.settings_in_force(clock.today())
    context: dict[str, Any] = {"assessment": assessment, "settings_in_force": in_force}
    if assessment is not None:
        version = assessment.settings_version
        context.update(
            hte=assessment.hte,
            tech_sme=assessment.tech_sme_result,
            settings_version=version,
            pass_score=version.settings.hte.pass_score,
            stale_settings=in_force is not None and in_force.id != version.id,
        )
    return context


@roles_required(*STAFF_ROLES)
def readiness():
    """List the firms the user sees by how near they are to high-tech certification."""
    form = ReadinessFilterForm(request.args, firm_choices_data())
    filters = form.readiness_filters(request.args.get("sort"))
    page = queries.readiness_page(
        current_user,
        filters,
        request.args.get("page", 1, type=int),
        current_app.config["FIRMS_PER_PAGE"],
        clock.today(),
    )
    return render_template("eligibility/list.html", form=form, page=page, sort=filters.sort)


@login_required
def refresh(firm_id: int):
    """Assess a firm now (its figures are otherwise reassessed when they change)."""
    firm = get_editable_firm(current_user, firm_id)
    services.refresh_assessments([firm.id])
    db.session.commit()
    flash("已完成预评估。", "success")
    return redirect(tab_url(firm.id, TAB))


@login_required
def expert(firm_id: int):
    """Show or save the manager's assessment of the expert-judged sub-items."""
    firm = get_editable_firm(current_user, firm_id)
    settings = services.settings_in_force(clock.today()).settings.hte
    form = ExpertForm(settings, obj=queries.expert_assessment(firm.id))
    if form.validate_on_submit():
        try:
            save_expert_assessment(firm, form.values(), current_user)
        except ValueError as error:
            show_error(form, error)
        else:
            db.session.commit()
            flash("专员评估已保存，预评估结果已更新。", "success")
            return redirect(tab_url(firm.id, TAB))
    return render_template("eligibility/expert.html", form=form, firm=firm)


def show_error(form, error: ValueError) -> None:
    """Attach a service's refusal to the field it names, else to the whole form."""
    field = getattr(form, getattr(error, "field", None) or "", None)
    message = getattr(error, "message", None) or str(error)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)
