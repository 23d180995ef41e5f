"""The dashboard blueprint: the dashboard page (`views`).

Routes are attached here, to the view functions of those modules, which never import this one.
"""

from flask import Blueprint

from crm.core.web import GET, add_routes
from crm.dashboard import views

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    # views
    ("/", "index", views.index, GET),
)
add_routes(bp, ROUTES)
