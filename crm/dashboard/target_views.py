"""The targets page (指标目标): administrators set, clear and seed the targets of each year.

The page shows a year's targets as a grid, the indicators against the city and each district,
marking the doubling plan's placeholders; one form sets or clears one target, another seeds the
placeholders from a base year. Other staff get 403, enterprise users 404.
"""

from decimal import Decimal
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.core import clock
from crm.core.forms import optional_year
from crm.core.permissions import is_admin
from crm.dashboard import queries
from crm.dashboard.forms import CITY, SeedForm, TargetForm
from crm.dashboard.targets import DOUBLING_YEARS, INDICATORS, seed_doubling_plan, set_target
from crm.dashboard.views import staff_only
from crm.extensions import db


def admin_only(view):
    """Restrict a view to administrators: other staff get 403 (and non-staff 404)."""

    @wraps(view)
    @staff_only
    def wrapped(*args, **kwargs):
        if not is_admin(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def shown(value: Decimal, places: int) -> str:
    """Write a target with its indicator's decimals and thousands separators."""
    return f"{value:,.{places}f}"


def _page(year: int, target_form: TargetForm | None = None, seed_form: SeedForm | None = None):
    today = clock.today()
    districts = queries.district_names()
    if target_form is None:
        target_form = TargetForm(districts, formdata=None, data={"year": year, "district": CITY})
    if seed_form is None:
        seed_form = SeedForm(today, formdata=None, data={"base_year": today.year - 1})
    return render_template(
        "dashboard/targets.html",
        year=year,
        years=queries.target_years(today),
        districts=districts,
        indicators=INDICATORS,
        grid=queries.target_grid(year),
        target_form=target_form,
        seed_form=seed_form,
        plan_years=DOUBLING_YEARS,
        shown=shown,
    )


@admin_only
def targets():
    """Show a year's targets (this year unless asked) and the forms that change them."""
    year = optional_year(request.args.get("year")) or clock.today().year
    return _page(year)


@admin_only
def target_set():
    """Set or clear one target, then show its year again."""
    districts = queries.district_names()
    form = TargetForm(districts)
    if not form.validate_on_submit():
        year = form.year.data if not form.year.errors and form.year.data else clock.today().year
        return _page(year, target_form=form)
    indicator = INDICATORS[form.indicator.data]
    scope = "全市" if form.district_id is None else dict(districts)[form.district_id]
    existed = queries.target_exists(form.year.data, indicator.key, form.district_id)
    set_target(form.year.data, indicator.key, form.district_id, form.decimal)
    db.session.commit()
    what = f"{form.year.data} 年{scope}「{indicator.name}」目标"
    if form.clearing:
        flash(f"已清除{what}。" if existed else f"{what}本未设置，无需清除。", "success")
    else:
        flash(f"已将{what}设为 {form.decimal} {indicator.unit}。", "success")
    return redirect(url_for("dashboard.targets", year=form.year.data))


@admin_only
def target_seed():
    """Seed the doubling plan's placeholders from a base year, then show its first year."""
    today = clock.today()
    form = SeedForm(today)
    if not form.validate_on_submit():
        return _page(today.year, seed_form=form)
    base = form.base_year.data
    seeded = seed_doubling_plan(base)
    db.session.commit()
    if seeded:
        flash(
            f"已按倍增计划生成 {seeded} 项占位目标（{base + 1}—{base + DOUBLING_YEARS} 年，"
            f"以 {base} 年末高企数为基数）；已由局里设置的目标保持不变。",
            "success",
        )
    else:
        flash(
            f"没有生成占位目标：{base} 年末没有有效的高企证书，或各年目标均已由局里设置。",
            "warning",
        )
    return redirect(url_for("dashboard.targets", year=base + 1))
