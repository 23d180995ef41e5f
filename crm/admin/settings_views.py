"""Pages of the admin blueprint: the versions of the eligibility settings, and a new version.

Versions are never edited: a change is a new version with an effective date, so every stored
assessment keeps the version it was computed with. Bureau heads may read the list; only admins
add versions.
"""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from crm.core import clock
from crm.core.permissions import ADMIN, READ_ALL_ROLES, roles_required
from crm.eligibility import queries, services
from crm.eligibility.settings_forms import SettingsForm, describe
from crm.extensions import db


@roles_required(*READ_ALL_ROLES)
def eligibility_settings():
    """List the settings versions and show the one in force today."""
    in_force = services.settings_in_force(clock.today())
    return render_template(
        "admin/eligibility_settings.html",
        versions=queries.settings_versions(),
        in_force=in_force,
        sections=describe(in_force.settings),
        as_of=clock.today(),
    )


@roles_required(ADMIN)
def eligibility_settings_new():
    """Add a settings version, starting from the one in force."""
    today = clock.today()
    in_force = services.settings_in_force(today)
    form = SettingsForm.prefilled(in_force.settings, today)
    if form.validate_on_submit():
        try:
            version = services.create_settings_version(
                form.settings(), form.effective_on.data, form.note.data, current_user
            )
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"已保存为第 {version.id} 版。", "success")
            return redirect(url_for("admin.eligibility_settings"))
    return render_template("admin/eligibility_settings_new.html", form=form, in_force=in_force)
