"""Firms and everything that describes them: contacts, yearly figures, IP items, qualifications."""
