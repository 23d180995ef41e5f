"""The portal blueprint: a firm's own pages, its requests, invitations' landing, the review queue.

Routes are attached here, to the view functions of the modules, which never import this one.
"""

from flask import Blueprint

from crm.core.web import GET, add_routes
from crm.portal import attachment_views

bp = Blueprint("portal", __name__, url_prefix="/portal")

#: The URL map: (rule, endpoint, view, methods).
ROUTES: tuple = (
    # attachment_views
    ("/attachments/<int:attachment_id>", "attachment", attachment_views.attachment, GET),
)
add_routes(bp, ROUTES)
