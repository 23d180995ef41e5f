"""Cross-cutting, domain-free parts: clock, model mixins, audit, permissions, errors, filters,
connection settings, and the background job queue with its worker.
"""
