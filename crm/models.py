"""Import every model module so SQLAlchemy and Alembic see the whole schema."""

from crm.accounts.models import LoginThrottle, User, user_districts
from crm.admin.models import District, Industry, Park, TechField
from crm.core.audit import AuditEntry
from crm.firms.models import Firm, FirmContact, FirmFormerName, FirmYear, IPItem, Qualification

__all__ = [
    "AuditEntry",
    "District",
    "Firm",
    "FirmContact",
    "FirmFormerName",
    "FirmYear",
    "IPItem",
    "Industry",
    "LoginThrottle",
    "Park",
    "Qualification",
    "TechField",
    "User",
    "user_districts",
]
