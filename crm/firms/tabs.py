"""The tabs of a firm's page: label, panel template, and where each domain fills in its context.

Domain packages own their tabs' content; the firms blueprint only knows them by name here, so
adding a tab is one entry and no import cycle (the context functions are imported when used).
"""

from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class FirmTab:
    """One tab of the firm page."""

    label: str
    template: str
    #: `module:function` taking the firm and returning the panel's context; None when the
    #: firms blueprint fills the tab itself.
    context: str | None = None
    #: Bureau staff only: the tab shows the bureau's working notes or judgement.
    staff_only: bool = False

    def load_context(self, firm) -> dict[str, Any]:
        """Return the tab's context from its domain package."""
        if self.context is None:
            return {}
        module, name = self.context.split(":")
        return getattr(import_module(module), name)(firm)


TABS: dict[str, FirmTab] = {
    "profile": FirmTab("基本信息", "firms/_profile.html"),
    "years": FirmTab("年度数据", "firms/_years_panel.html"),
    "ip": FirmTab("知识产权", "firms/_ip_panel.html"),
    "qualifications": FirmTab("资质", "firms/_qualifications_panel.html"),
    "assessment": FirmTab(
        "预评估", "eligibility/_firm_tab.html", "crm.eligibility.views:firm_tab_context", True
    ),
    "pipeline": FirmTab(
        "培育进程", "pipeline/_firm_tab.html", "crm.pipeline.views:firm_tab_context", True
    ),
    "certification": FirmTab(
        "高企认定", "certification/_firm_tab.html", "crm.certification.views:firm_tab_context", True
    ),
    "coaching": FirmTab(
        "一企一策", "coaching/_firm_plans.html", "crm.coaching.views:plans_tab_context", True
    ),
    "activities": FirmTab(
        "走访记录",
        "coaching/_activities_panel.html",
        "crm.coaching.views:activities_tab_context",
        True,
    ),
    "support": FirmTab(
        "扶持台账", "support/_firm_tab.html", "crm.support.views:firm_tab_context", True
    ),
    "timeline": FirmTab(
        "时间线", "pipeline/_timeline.html", "crm.pipeline.timeline:firm_tab_context", True
    ),
    "history": FirmTab("变更记录", "firms/_history.html"),
}


def visible_tabs(is_staff: bool) -> dict[str, str]:
    """Return the labels of the tabs a user may open, by key, in page order."""
    return {key: tab.label for key, tab in TABS.items() if is_staff or not tab.staff_only}
