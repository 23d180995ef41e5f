"""The application factory: a table of contents of register_* calls."""

import importlib
import os

from flask import Flask, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from crm import config as config_module
from crm.core.permissions import is_bureau_head, is_enterprise
from crm.core.web import Request
from crm.extensions import csrf, db, login_manager, migrate

#: Modules whose import registers background job handlers and periodic work (crm.jobs.registry).
JOB_MODULES = (
    "crm.jobs.queue",
    "crm.jobs.maintenance",
    "crm.eligibility.jobs",
    "crm.certification.jobs",
    "crm.reminders.jobs",
    "crm.dashboard.jobs",
    "crm.excel.services",
    "crm.excel.exports",
    "crm.reports.jobs",
    "crm.portal.jobs",
)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


def create_app(config: type | dict | None = None) -> Flask:
    """Build the application; `config` is a Config class or a dict of overrides (tests)."""
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = Request
    app.config.from_object(config_module.Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    config_module.finalize(app)
    register_proxy(app)
    register_extensions(app)
    register_jobs(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def register_proxy(app: Flask) -> None:
    """Trust the configured number of reverse proxies for the client address and scheme.

    With none configured, the first request that shows a proxy's X-Forwarded-For header logs a
    warning: the login throttles would see the proxy's address for every client.
    """
    count = app.config.get("PROXY_COUNT", 0)
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
        return
    warned = False

    @app.before_request
    def warn_of_an_unconfigured_proxy() -> None:
        nonlocal warned
        if not warned and "X-Forwarded-For" in request.headers:
            warned = True
            app.logger.warning(
                "A request came with X-Forwarded-For but CRM_PROXY_COUNT is 0: the login "
                "throttles take the proxy's address %s for every client. Set CRM_PROXY_COUNT "
                "to the number of reverse proxies in front of the app.",
                request.remote_addr,
            )


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions to the app."""
    import crm.models  # noqa: F401  (every model registered before migrations look)
    from crm.core import database  # also connects the SQLite settings before any connection opens

    configured = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**database.ENGINE_OPTIONS, **configured}
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(app.root_path, "migrations"),
        render_as_batch=True,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    from crm.accounts.sessions import load_user

    login_manager.user_loader(load_user)


def register_jobs(app: Flask) -> None:
    """Import the modules that register job handlers and periodic work; no scheduler starts here."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    # crm.mail sits beside crm.jobs and may not import it: its sender is registered here.
    from crm.jobs.registry import periodic
    from crm.mail.sender import SEND_EVERY_SECONDS, send_due

    periodic("mail.send", seconds=SEND_EVERY_SECONDS)(send_due)


def register_blueprints(app: Flask) -> None:
    """Mount every blueprint and the home page."""
    from crm.accounts.views import bp as accounts_bp
    from crm.admin.blueprint import bp as admin_bp
    from crm.certification.blueprint import bp as certification_bp
    from crm.coaching.blueprint import bp as coaching_bp
    from crm.dashboard.blueprint import bp as dashboard_bp
    from crm.dashboard.report_views import bp as funnel_report_bp
    from crm.eligibility.blueprint import bp as eligibility_bp
    from crm.excel.views import bp as excel_bp
    from crm.firms.blueprint import bp as firms_bp
    from crm.jobs.views import bp as jobs_bp
    from crm.listing.blueprint import bp as listing_bp
    from crm.mail.views import bp as mail_bp
    from crm.pipeline.blueprint import bp as pipeline_bp
    from crm.portal.blueprint import bp as portal_bp
    from crm.reminders.email_views import bp as reminder_email_bp
    from crm.reminders.views import bp as reminders_bp
    from crm.reports.blueprint import bp as reports_bp
    from crm.reports.layout_blueprint import bp as layouts_bp
    from crm.support.blueprint import bp as support_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(firms_bp)
    app.register_blueprint(eligibility_bp)
    app.register_blueprint(coaching_bp)
    app.register_blueprint(pipeline_bp)
    app.register_blueprint(listing_bp)
    app.register_blueprint(certification_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(reminder_email_bp)
    app.register_blueprint(reminders_bp)
    app.register_blueprint(excel_bp)
    app.register_blueprint(layouts_bp)
    app.register_blueprint(funnel_report_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(portal_bp)

    @app.get("/")
    def index():
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login"))
        # Bureau heads start from the dashboard they report from, an enterprise user from its
        # firm's home in the portal, everyone else from what they have to do today.
        if is_bureau_head(current_user):
            return redirect(url_for("dashboard.index"))
        if is_enterprise(current_user):
            return redirect(url_for("portal.home"))
        return redirect(url_for("reminders.today"))


def register_errorhandlers(app: Flask) -> None:
    """Render error pages in Chinese."""
    from crm.core.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    """Add Jinja filters and globals."""
    from crm.core.exports import export_url
    from crm.core.filters import register

    register(app)
    app.jinja_env.globals["export_url"] = export_url


def register_security_headers(app: Flask) -> None:
    """Send a strict content security policy and related headers with every response."""

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # A firm's page holds its figures and contacts: never kept by a browser or a proxy.
        if g.get("no_store") or "firms" in request.path.split("/"):
            response.headers["Cache-Control"] = "no-store"
        return response


def register_commands(app: Flask) -> None:
    """Add the `flask crm ...` commands."""
    from crm.cli import crm_group

    app.cli.add_command(crm_group)
