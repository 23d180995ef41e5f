"""Absolute links for e-mail, which the worker writes outside any request.

The address people open the app at is the setting `BASE_URL` (`CRM_BASE_URL`): without a
request, the app cannot know it. Unset (or not an http(s) address), e-mail carries no links.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import BuildError

#: Builds the absolute link of an endpoint with its arguments, or None if it cannot be built.
LinkBuilder = Callable[[str, dict[str, Any]], str | None]


def link_builder() -> LinkBuilder | None:
    """Return a function giving an endpoint's absolute link, or None when `BASE_URL` is unset."""
    base = (current_app.config.get("BASE_URL") or "").strip()
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
    )

    def build(endpoint: str, values: dict[str, Any]) -> str | None:
        try:
            return adapter.build(endpoint, values, force_external=True)
        except BuildError:
            return None

    return build
