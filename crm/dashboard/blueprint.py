"""The dashboard blueprint: the dashboard page (`views`) and the targets' editing
(`target_views`).

Routes are attached here, to the view functions of those modules, which never import this one.
"""

from flask import Blueprint

from crm.core.web import GET, POST, add_routes
from crm.dashboard import target_views, views

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    # views
    ("/", "index", views.index, GET),
    # target_views
    ("/targets", "targets", target_views.targets, GET),
    ("/targets/set", "target_set", target_views.target_set, POST),
    ("/targets/seed", "target_seed", target_views.target_seed, POST),
)
add_routes(bp, ROUTES)
