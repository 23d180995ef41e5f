"""Cross-cutting, domain-free parts: clock, model mixins, audit, permissions, errors, filters."""
