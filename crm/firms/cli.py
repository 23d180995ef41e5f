"""Commands of the firms package."""


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
