"""Import every model module so SQLAlchemy and Alembic see the whole schema."""

from crm.accounts.models import (
    AccountThrottle,
    AddressThrottle,
    Invitation,
    LoginThrottle,
    User,
    user_districts,
)
from crm.certification.models import CertificationApplication, CertificationBatch, ChangeReport
from crm.coaching.models import Activity, CoachingMeasure, CoachingMilestone, CoachingPlan
from crm.core.audit import AuditEntry
from crm.dashboard.models import Target
from crm.eligibility.models import Assessment, ExpertAssessment, SettingsVersion
from crm.excel.models import ImportBatch, ImportMapping, ImportRow
from crm.firms.models import (
    Certificate,
    Firm,
    FirmContact,
    FirmFormerName,
    FirmYear,
    IPItem,
    Qualification,
)
from crm.jobs.models import Job, Lease
from crm.listing.models import ListingCase
from crm.mail.models import OutboxMessage
from crm.pipeline.models import Enrollment, Programme, Stage, StageTransition
from crm.portal.models import Attachment, ChangeItem, ChangeRequest
from crm.reference.models import District, Industry, Park, TechField
from crm.reminders.models import (
    Reminder,
    ReminderEmailOptOut,
    ReminderRule,
    ReminderRuleVersion,
)
from crm.reports.models import ReportTemplate
from crm.support.models import SubsidyRule, SupportEntry

__all__ = [
    "AccountThrottle",
    "Activity",
    "AddressThrottle",
    "Assessment",
    "Attachment",
    "AuditEntry",
    "Certificate",
    "CertificationApplication",
    "CertificationBatch",
    "ChangeItem",
    "ChangeReport",
    "ChangeRequest",
    "CoachingMeasure",
    "CoachingMilestone",
    "CoachingPlan",
    "District",
    "Enrollment",
    "ExpertAssessment",
    "Firm",
    "FirmContact",
    "FirmFormerName",
    "FirmYear",
    "IPItem",
    "ImportBatch",
    "ImportMapping",
    "ImportRow",
    "Industry",
    "Invitation",
    "Job",
    "Lease",
    "ListingCase",
    "LoginThrottle",
    "OutboxMessage",
    "Park",
    "Programme",
    "Qualification",
    "Reminder",
    "ReminderEmailOptOut",
    "ReminderRule",
    "ReminderRuleVersion",
    "ReportTemplate",
    "SettingsVersion",
    "Stage",
    "StageTransition",
    "SubsidyRule",
    "SupportEntry",
    "Target",
    "TechField",
    "User",
    "user_districts",
]
