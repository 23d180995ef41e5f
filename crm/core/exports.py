"""Which lists can be exported, and where: a link from a list page to its export.

The reports package, above the packages whose pages show the lists, registers the endpoint of
each export (`register_export`); the pages ask `export_url` (a Jinja global) for the link, which
carries the page's own query arguments (its filters and sort) so the file holds what the page
shows. A list without a registered export gets no link.
"""

from urllib.parse import urlencode

from flask import current_app, has_request_context, request, url_for

_endpoints: dict[str, str] = {}


def register_export(list_name: str, endpoint: str) -> None:
    """Say that the list `list_name` is exported by the view `endpoint`."""
    _endpoints[list_name] = endpoint


def export_url(list_name: str, extra: dict | None = None) -> str | None:
    """Return the export link of `list_name` for the current page's filters and sort, or None
    when the list has no export (or there is no request). `extra` adds what the page's address
    names in its path (a programme and stage, a plan), as query arguments."""
    endpoint = _endpoints.get(list_name)
    if endpoint is None or not has_request_context():
        return None
    if endpoint not in current_app.view_functions:
        return None
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
    args += [(key, value) for key, value in (extra or {}).items() if key not in request.args]
    url = url_for(endpoint)
    return f"{url}?{urlencode(args)}" if args else url
