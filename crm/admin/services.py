"""Use cases of administration: finding users and the firms they belong to, seeding a city."""

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from crm.accounts.models import ROLES, User
from crm.accounts.services import AccountError
from crm.extensions import db
from crm.firms import uscc
from crm.firms.models import Firm
from crm.pipeline.services import seed_programmes
from crm.reference.services import seed_city
from crm.reminders.services import seed_rules
from crm.support.services import seed_subsidy_rules


def seed_reference_data(city: str) -> int:
    """Create the missing districts, parks, fields, industries, programmes, subsidy rules and
    reminder rules."""
    return seed_city(city) + seed_programmes() + seed_subsidy_rules() + seed_rules()


def search_users(role: str | None = None, text: str | None = None) -> list[User]:
    """Return the users of `role` whose username, name, e-mail, phone or firm matches `text`."""
    stmt = (
        select(User)
        .outerjoin(Firm, User.firm_id == Firm.id)
        .options(selectinload(User.firm))
        .order_by(User.username)
    )
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    text = (text or "").strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        stmt = stmt.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (User.username, User.name, User.email, User.phone, Firm.name)
                )
            )
        )
    return list(db.session.scalars(stmt))


def resolve_firm(text: str | None) -> Firm | None:
    """Find the firm named by its USCC or exact name; refuse text that matches none."""
    text = (text or "").strip()
    if not text:
        return None
    alive = select(Firm).where(Firm.deleted_at.is_(None))
    code = uscc.normalise(text)
    firm = db.session.scalar(alive.where(Firm.uscc == code)) if len(code) == 18 else None
    if firm is None:
        firm = db.session.scalars(alive.where(Firm.name == text).order_by(Firm.id)).first()
    if firm is None:
        raise AccountError("firm", f"未找到统一社会信用代码或名称为「{text}」的企业")
    return firm
