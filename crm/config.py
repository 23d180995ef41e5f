"""Configuration read from environment variables."""

import os
import secrets
from pathlib import Path

CITIES = ("wuzhou", "baise")


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


class Config:
    """Settings for every environment; production reads everything from the environment."""

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    #: Which city's reference data (districts, parks, key industries) this deployment uses.
    CITY = os.environ.get("CRM_CITY", "wuzhou").strip().lower()
    #: Local time zone of the bureau; the database stores naive UTC.
    TZ = os.environ.get("CRM_TZ", "Asia/Shanghai")

    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = _int("SMTP_PORT", 25)
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", False)
    MAIL_FROM = os.environ.get("MAIL_FROM", "")
    #: Seconds the sender waits for the SMTP server to answer before it tries again later.
    SMTP_TIMEOUT_SECONDS = 30
    #: A message the server refused for now (or never got) is tried again after this many
    #: seconds, doubled at every further try up to MAIL_RETRY_MAX_SECONDS ...
    MAIL_RETRY_FIRST_SECONDS = 60
    MAIL_RETRY_MAX_SECONDS = 6 * 60 * 60
    #: ... and is failed after this many tries (about 20 hours of trying).
    MAIL_MAX_ATTEMPTS = 12
    #: Messages one run of the sender sends at most; the rest wait for its next run.
    MAIL_BATCH = 200
    #: A message still marked as being sent this long after its try began lost its sender
    #: mid-send; it is failed for an administrator to check and send again.
    MAIL_STUCK_MINUTES = 15
    #: The address people reach the app at (e.g. https://crm.kjj.example.gov.cn), for the links
    #: in e-mail, which the worker writes outside any request; unset, e-mail carries no links.
    BASE_URL = os.environ.get("CRM_BASE_URL", "").strip()
    #: The hour (0-23, bureau time) from which each Monday the weekly digest goes to the bureau
    #: heads; a worker that was down then sends it at its next run that week.
    DIGEST_HOUR = _int("CRM_DIGEST_HOUR", 8)
    #: Days an invitation link to the enterprise portal works; resending starts them again.
    INVITATION_DAYS = _int("CRM_INVITATION_DAYS", 7)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = _int("CRM_MAX_UPLOAD_MB", 20) * 1024 * 1024
    #: Days an uploaded import file and a job's file are kept; a batch that can still be undone
    #: keeps its file.
    UPLOAD_RETENTION_DAYS = _int("CRM_UPLOAD_RETENTION_DAYS", 90)
    #: Workbooks one user may upload for import in an hour.
    UPLOADS_PER_HOUR = _int("CRM_UPLOADS_PER_HOUR", 30)

    #: A login session ends after this many minutes without a request, and this many hours after
    #: the login whatever the activity.
    SESSION_IDLE_MINUTES = _int("CRM_SESSION_IDLE_MINUTES", 120)
    SESSION_MAX_HOURS = _int("CRM_SESSION_MAX_HOURS", 12)

    #: Failed logins allowed per account and client address before the lock.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    #: Failed logins at one account, from any addresses, before each further one makes the next
    #: attempt wait: the first wait, doubled each time up to the longest. A day without a failure
    #: forgets them, and so does a successful login.
    LOGIN_ACCOUNT_FREE_FAILURES = 10
    LOGIN_ACCOUNT_FIRST_WAIT_MINUTES = 1
    LOGIN_ACCOUNT_MAX_WAIT_MINUTES = 30
    LOGIN_ACCOUNT_FORGET_HOURS = 24
    #: Failed logins from one client address, at any accounts, within the window before the
    #: address is locked for LOGIN_LOCK_MINUTES.
    LOGIN_ADDRESS_MAX_FAILURES = 20
    LOGIN_ADDRESS_WINDOW_MINUTES = 15
    FIRMS_PER_PAGE = 50
    #: A list export of up to this many rows is built in the request; a larger one runs as a
    #: background job with a progress bar.
    EXPORT_INLINE_ROWS = _int("CRM_EXPORT_INLINE_ROWS", 3000)
    #: How many reverse proxies stand in front of the app; their X-Forwarded-* headers are trusted
    #: so the login lock sees the real client address.
    PROXY_COUNT = _int("CRM_PROXY_COUNT", 0)

    #: Seconds between two looks of the worker at the queue of background jobs.
    JOB_POLL_SECONDS = 1
    #: How many jobs one worker runs at the same time.
    JOB_THREADS = 1
    #: Least seconds between two progress writes of a running job.
    JOB_PROGRESS_SECONDS = 0.3
    #: Seconds between two heartbeats of a worker's running jobs.
    JOB_HEARTBEAT_SECONDS = 30
    #: A running job without a heartbeat for this long has lost its worker and is failed.
    JOB_DEAD_AFTER_MINUTES = 10
    #: Where jobs keep the files they produce; empty means `instance/jobs`.
    JOB_FILES_FOLDER = os.environ.get("CRM_JOB_FILES_FOLDER", "")
    #: Where the files firms attach to their requests and measures are kept; empty means
    #: `instance/attachments`. With several web machines, a folder they all share.
    ATTACHMENT_FOLDER = os.environ.get("CRM_ATTACHMENT_FOLDER", "")
    #: The largest attachment, in MB (the whole upload is also held to CRM_MAX_UPLOAD_MB).
    ATTACHMENT_MAX_MB = _int("CRM_ATTACHMENT_MAX_MB", 10)


class TestConfig(Config):
    """Settings for the test suite; the database URL is passed in by the fixtures."""

    TESTING = True
    SECRET_KEY = "test-only-secret"
    WTF_CSRF_ENABLED = False
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SQLALCHEMY_ENGINE_OPTIONS = {}
    #: A cheap hash keeps the many test logins fast; production keeps scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


def finalize(app) -> None:
    """Fill in what depends on the instance folder or debug mode, and refuse unsafe settings."""
    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'crm.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config["CITY"] not in CITIES:
        raise RuntimeError(f"CRM_CITY must be one of {', '.join(CITIES)}")
    if not 0 <= int(app.config["DIGEST_HOUR"]) <= 23:
        raise RuntimeError("CRM_DIGEST_HOUR must be an hour from 0 to 23")
    if int(app.config["INVITATION_DAYS"]) < 1:
        raise RuntimeError("CRM_INVITATION_DAYS must be at least 1")
    if app.debug:
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config["REMEMBER_COOKIE_SECURE"] = False
    if not app.config.get("SECRET_KEY"):
        if not (app.debug or app.testing):
            raise RuntimeError("SECRET_KEY must be set outside debug mode")
        app.config["SECRET_KEY"] = _local_secret(instance)


def normalise_database_url(uri: str) -> str:
    """Read `postgres://` and `postgresql://` as PostgreSQL through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri.removeprefix(prefix)
    return uri


def _local_secret(instance: Path) -> str:
    """Return a random key kept in the instance folder, for debug runs on one machine."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
