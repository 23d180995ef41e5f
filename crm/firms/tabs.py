"""The tabs of a firm's page, each registered by the package that owns it.

A package that shows something on the firm page registers its tab in its `blueprint` module: a
label, the panel's template, a function returning the panel's context, whether only bureau staff
see it, and its place among the tabs. The firms blueprint shows whatever is registered and knows
no other package.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FirmTab:
    """One tab of the firm page."""

    label: str
    template: str
    #: Takes the firm and returns what the panel shows.
    context: Callable[[Any], dict[str, Any]]
    #: Tabs show in ascending order (the firm's own records first, its history last).
    order: int
    #: Bureau staff only: the tab shows the bureau's working notes or judgement.
    staff_only: bool = False


_tabs: dict[str, FirmTab] = {}


def register_tab(key: str, tab: FirmTab) -> None:
    """Add `tab` to the firm page under `key` (the `tab` query parameter)."""
    known = _tabs.get(key)
    if known is not None and known != tab:
        raise RuntimeError(f"the firm tab {key!r} is already registered")
    _tabs[key] = tab


def firm_tab(key: str) -> FirmTab:
    """Return the registered tab `key`."""
    return _tabs[key]


def visible_tabs(is_staff: bool) -> dict[str, str]:
    """Return the labels of the tabs a user may open, by key, in page order."""
    ordered = sorted(_tabs.items(), key=lambda item: item[1].order)
    return {key: tab.label for key, tab in ordered if is_staff or not tab.staff_only}
