"""Whether e-mail is on, and the SMTP settings the sender uses (from `crm.config`)."""

from dataclasses import dataclass

from flask import current_app

#: The settings that turn e-mail on, as the administrator's page lists them.
HOW_TO_TURN_ON = (
    ("SMTP_HOST", "发信服务器地址（必填）"),
    ("SMTP_PORT", "端口，默认 25；STARTTLS 通常为 587"),
    ("SMTP_STARTTLS", "设为 1 时先以 STARTTLS 加密再登录"),
    ("SMTP_USER", "登录用户名（服务器要求登录时）"),
    ("SMTP_PASSWORD", "登录密码或授权码"),
    ("MAIL_FROM", "发件人地址；不填时用 SMTP_USER"),
)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how the sender delivers messages."""

    host: str
    port: int
    user: str
    password: str
    starttls: bool
    sender: str
    timeout: float


def smtp_settings() -> SmtpSettings | None:
    """Return the configured SMTP settings, or None when e-mail is off.

    E-mail is on when a server (`SMTP_HOST`) and a sender address (`MAIL_FROM`, else
    `SMTP_USER`) are both set.
    """
    config = current_app.config
    host = (config.get("SMTP_HOST") or "").strip()
    sender = (config.get("MAIL_FROM") or config.get("SMTP_USER") or "").strip()
    if not host or not sender:
        return None
    return SmtpSettings(
        host=host,
        port=int(config.get("SMTP_PORT") or 25),
        user=config.get("SMTP_USER") or "",
        password=config.get("SMTP_PASSWORD") or "",
        starttls=bool(config.get("SMTP_STARTTLS")),
        sender=sender,
        timeout=float(config.get("SMTP_TIMEOUT_SECONDS", 30)),
    )


def mail_enabled() -> bool:
    """Tell whether e-mail is on: producers queue nothing while it is off."""
    return smtp_settings() is not None
