"""Commands of the accounts package."""


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
