"""Import every model module so SQLAlchemy and Alembic see the whole schema."""

from crm.accounts.models import LoginThrottle, User, user_districts
from crm.admin.models import District, Industry, Park, TechField
from crm.core.audit import AuditEntry
from crm.eligibility.models import Assessment, ExpertAssessment, SettingsVersion
from crm.firms.models import Firm, FirmContact, FirmFormerName, FirmYear, IPItem, Qualification

# Registers the session listeners that recompute stored assessments when a firm's facts change.
import crm.eligibility.services  # noqa: F401  isort: skip

__all__ = [
    "Assessment",
    "AuditEntry",
    "District",
    "ExpertAssessment",
    "Firm",
    "FirmContact",
    "FirmFormerName",
    "FirmYear",
    "IPItem",
    "Industry",
    "LoginThrottle",
    "Park",
    "Qualification",
    "SettingsVersion",
    "TechField",
    "User",
    "user_districts",
]
