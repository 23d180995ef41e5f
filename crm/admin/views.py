"""Pages of the admin blueprint: user administration."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.accounts import services, sessions
from crm.accounts.models import ROLES, User
from crm.admin import services as admin_services
from crm.admin.forms import UserEditForm, UserFilterForm, UserNewForm
from crm.core.permissions import ADMIN, roles_required
from crm.extensions import db


def _details(form) -> dict:
    """Return the account details of a submitted user form, resolving the firm and districts."""
    return {
        "name": form.name.data,
        "role": form.role.data,
        "email": form.email.data,
        "phone": form.phone.data,
        "districts": services.districts_by_id(form.districts.data or []),
        "firm": admin_services.resolve_firm(form.firm.data),
        "is_active": form.is_active.data,
        "password": form.password.data or None,
    }


def _show_error(form, error: services.AccountError) -> None:
    """Attach a service's refusal to the form field it concerns."""
    field = getattr(form, error.field, None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors.append(error.message)


@roles_required(ADMIN)
def users():
    """List the accounts, filtered by role and text."""
    filters = UserFilterForm(request.args)
    rows = admin_services.search_users(filters.role.data, filters.q.data)
    return render_template("admin/users.html", users=rows, filters=filters, roles=ROLES)


@roles_required(ADMIN)
def user_new():
    """Create an account."""
    form = UserNewForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(username=form.username.data, **_details(form))
        except services.AccountError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(f"已创建用户 {user.username}（{user.role_label}）。", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form)


@roles_required(ADMIN)
def user_edit(user_id: int):
    """Change an account's details, role, links and password."""
    user = db.get_or_404(User, user_id)
    form = UserEditForm.for_user(user)
    if form.validate_on_submit():
        try:
            services.update_user(user, actor=current_user, **_details(form))
        except services.AccountError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            if user.id == current_user.id and form.password.data:
                # A new password ends the user's sessions; an administrator keeps this one.
                sessions.renew_session(user)
            flash(f"已保存用户 {user.username} 的修改。", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_edit.html", form=form, user=user)


@roles_required(ADMIN)
def user_toggle(user_id: int):
    """Disable an enabled account or enable a disabled one."""
    user = db.get_or_404(User, user_id)
    try:
        services.set_user_active(user, not user.is_active, actor=current_user)
    except services.AccountError as error:
        flash(error.message, "danger")
    else:
        db.session.commit()
        state = "启用" if user.is_active else "停用"
        flash(f"已{state}用户 {user.username}。", "success")
    return redirect(url_for("admin.users"))
