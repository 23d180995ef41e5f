"""Administration screens: user accounts and the versions of the eligibility settings."""
