"""Health endpoints for balancers and PaaS routers: cheap, never cached, nothing revealed
(no versions, host names or error texts: only each dependency's status and latency). And the
portal's error handler: a database that is down or restarting is a 503, never a 500. And
/favicon.ico, which browsers and crawlers ask for whatever the page says."""

import logging
import sys

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe
from django.views.defaults import server_error as django_server_error

from portal.ops.readiness import readiness

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 10
DATABASE_DOWN = (OperationalError, InterfaceError)


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. It touches nothing (no database, no cache, no session)."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 503 only when the instance cannot serve (PostgreSQL is down); a degraded
    cache, search, MongoDB or S3 is reported with a 200, because pages degrade gracefully."""
    result = readiness()
    return JsonResponse(result.as_json(), status=200 if result.serving else 503)


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """To the hashed static file (cached for a year). Temporary, and cached for a day only: the
    hash changes with the icon, and a permanent redirect would keep browsers on a gone name."""
    return HttpResponseRedirect(static("favicon.ico"))


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. Django calls it for an exception raised anywhere (view, middleware, template),
    with the exception still being handled, so a database error from any of them lands here."""
    error = sys.exc_info()[1]
    if not isinstance(error, DATABASE_DOWN):
        return django_server_error(request)
    drop_dead_connections()
    # No request context: its processors would read the user, i.e. the database that is down.
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def drop_dead_connections() -> None:
    """Close this thread's connections that the server dropped, so the next request on this thread
    opens a fresh one instead of failing on the dead one first (CONN_HEALTH_CHECKS checks only once
    per request, before the first query)."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            try:
                connection.close()
            except DATABASE_DOWN:  # closing a broken connection may raise; it is gone either way
                log.debug("closing a dead %s connection raised", connection.alias)
