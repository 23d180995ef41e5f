"""The listing blueprint: the case of a listing-reserve enrollment (`views`).

Routes are attached here, to the view functions of those modules, which never import this one.
It also registers how the history of a firm names the package's records.
"""

from flask import Blueprint

from crm.core.web import POST, add_routes
from crm.firms.history import Entity, describe
from crm.listing import views
from crm.listing.models import MARKETS, NEEQ_TIERS, ListingCase

bp = Blueprint("listing", __name__, url_prefix="/listing")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (("/enrollments/<int:enrollment_id>/case", "save_case", views.save_case, POST),)
add_routes(bp, ROUTES)

describe(
    Entity(
        "上市案卷",
        ListingCase,
        codes={"target_market": MARKETS, "neeq_tier": NEEQ_TIERS},
        summary=lambda v: MARKETS.get(v.get("target_market") or "", ""),
    )
)
