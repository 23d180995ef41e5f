"""Reminders (domain.md §4): rules as data, the reminder rows and the daily scan that makes them."""
