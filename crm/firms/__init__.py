"""Firms and everything that describes them: contacts, yearly figures, IP items, qualifications;
the credit-code check (`uscc`) and which firms a user may reach (`access`).
"""
