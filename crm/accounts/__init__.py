"""Users, roles, login and logout, lockout, password changes."""
