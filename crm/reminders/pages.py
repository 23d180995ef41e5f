"""The page a reminder sends its reader to: the rule's own, or for an enterprise user a page of
the package that serves firms' users, which registers it here.

Shared by the lists in the app and the e-mail, which builds the same pages as absolute links.
"""

from collections.abc import Callable
from typing import Any

from crm.reminders.models import url_arguments

#: Gives the endpoint and arguments an enterprise user acts on a reminder at (or None).
EnterprisePage = Callable[[Any], tuple[str, dict[str, Any]] | None]
_enterprise_page: list[EnterprisePage] = []


def register_enterprise_page(page: EnterprisePage) -> None:
    """Make `page` choose where enterprise users act on their reminders (the portal does)."""
    _enterprise_page[:] = [page]


def page_for(reminder, enterprise: bool = False) -> tuple[str, dict[str, Any]] | None:
    """Return the endpoint and arguments of the page to act on `reminder` (a `Reminder` or a row
    of its link's columns), for a user of the bureau or, `enterprise`, of a firm; None when
    there is no page that user may open.

    The bureau's pages are for staff: an enterprise user is sent where the registered page
    says, and a reminder about no firm links nowhere.
    """
    if not enterprise:
        return reminder.link_endpoint, url_arguments(reminder)
    if reminder.firm_id is None or not _enterprise_page:
        return None
    return _enterprise_page[0](reminder)
