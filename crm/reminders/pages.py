"""The page a reminder sends its reader to: the rule's own, or for an enterprise user their firm's.

Shared by the lists in the app and the e-mail, which builds the same pages as absolute links.
"""

from typing import Any

from crm.firms.tabs import visible_tabs
from crm.reminders.models import url_arguments


def page_for(reminder, enterprise: bool = False) -> tuple[str, dict[str, Any]] | None:
    """Return the endpoint and arguments of the page to act on `reminder` (a `Reminder` or a row
    of its link's columns), for a user of the bureau or, `enterprise`, of a firm; None when
    there is no page that user may open.

    An enterprise user opens only their own firm's page and its tabs not kept for staff; a
    reminder linking elsewhere (a batch's page, which is for staff) links to the firm instead,
    and one about no firm links nowhere.
    """
    if not enterprise:
        return reminder.link_endpoint, url_arguments(reminder)
    if reminder.firm_id is None:
        return None
    args = url_arguments(reminder) if reminder.link_endpoint == "firms.detail" else {}
    shown = {"firm_id": reminder.firm_id}
    if args.get("tab") in visible_tabs(is_staff=False):
        shown["tab"] = args["tab"]
    return "firms.detail", shown
