"""Views and downloads, recorded from the outside: the library and media views stay unaware of
analytics. One outbox insert per successful asset page or download, never a MongoDB call."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from portal.analytics.services import event_record

log = logging.getLogger(__name__)

# URL name → (event type, the status a success answers with)
RECORDED = {"library:asset": ("view", 200), "media:download": ("download", 302)}


class ActivityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is None or request.method != "GET" or request.headers.get("HX-Request") == "true":
            return response
        recorded = RECORDED.get(match.view_name)
        if recorded and response.status_code == recorded[1] and "slug" in match.kwargs:
            try:  # the slug becomes an asset id when shipped: one query per batch, not per request
                event_record(kind=recorded[0], request=request, slug=match.kwargs["slug"])
            except DatabaseError:
                log.exception("%s event not recorded", recorded[0])
        return response
