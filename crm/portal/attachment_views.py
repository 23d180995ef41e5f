"""Downloading a supporting file, for the firm's own users and the staff who see the firm."""

from flask import abort, send_file
from flask_login import current_user, login_required

from crm.portal import attachments


@login_required
def attachment(attachment_id: int):
    """Send an attachment of a firm the user may see, as a download under its own name."""
    row = attachments.visible_attachment(current_user, attachment_id)
    path = attachments.path_of(row)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=row.content_type,
        as_attachment=True,
        download_name=row.filename,
        max_age=0,
    )
    # A firm's papers (licences, audits) are never kept by a browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response
