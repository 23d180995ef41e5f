"""The listing blueprint: the case of a listing-reserve enrollment (`views`).

Routes are attached here, to the view functions of those modules, which never import this one.
"""

from flask import Blueprint

from crm.core.web import POST, add_routes
from crm.listing import views

bp = Blueprint("listing", __name__, url_prefix="/listing")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (("/enrollments/<int:enrollment_id>/case", "save_case", views.save_case, POST),)
add_routes(bp, ROUTES)
