"""Pages of the accounts blueprint: login, logout and the password change."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.accounts import services, sessions
from crm.accounts.forms import LoginForm, PasswordForm
from crm.extensions import db

bp = Blueprint("accounts", __name__)


def safe_next(target: str | None) -> str | None:
    """Return `target` when it is a relative path on this site, else None."""
    if not target or not target.isprintable() or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    if form.validate_on_submit():
        user, message = services.authenticate(
            form.username.data, form.password.data, request.remote_addr or ""
        )
        db.session.commit()
        if user is not None:
            sessions.begin_session(user)
            return redirect(safe_next(request.args.get("next")) or url_for("index"))
        form.form_errors.append(message)
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log the user out of every session: this cookie, any copy of it, their other devices."""
    if current_user.is_authenticated:
        sessions.end_session(current_user._get_current_object())
        db.session.commit()
        flash("您已退出登录。", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Let the logged-in user change their password."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except services.AccountError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            db.session.commit()
            sessions.renew_session(current_user._get_current_object())
            flash("密码已修改，其他设备上的登录已失效；下次登录请使用新密码。", "success")
            return redirect(url_for("index"))
    return render_template("accounts/password.html", form=form)
