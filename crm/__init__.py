"""科技企业培育 CRM: the system of record for a science and technology bureau's firm cultivation."""

from crm.app import create_app

__all__ = ["create_app"]
