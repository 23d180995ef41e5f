"""Reference data: the city's districts, parks, industries and technology fields.

Seeded per city from `cities` (domain.md §6) and edited by administrators afterwards.
"""
