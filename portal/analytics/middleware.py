"""Views and downloads, recorded from the outside: the library and media views stay unaware of
analytics. One outbox insert per counted asset view or download (visits.py says which count),
never a MongoDB call."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from portal.analytics import visits
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
        if not recorded or response.status_code != recorded[1] or "slug" not in match.kwargs:
            return response
        if not visits.counts(request):  # crawlers and prefetches: nobody looked
            return response
        if recorded[0] == "view" and not visits.view_is_first_in_window(request, slug=match.kwargs["slug"]):
            return response  # a reload: this visitor's view of this asset is counted already
        try:  # the slug becomes an asset id when shipped: one query per batch, not per request
            event_record(kind=recorded[0], request=request, slug=match.kwargs["slug"])
        except DatabaseError:
            log.exception("%s event not recorded", recorded[0])
        return response
