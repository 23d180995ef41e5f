"""The kit, free of any domain: clock, database settings, model mixins, the audit trail, bulk
writes, JSON text, errors, template filters and permissions.
"""
