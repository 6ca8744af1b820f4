"""Health endpoints for balancers and PaaS routers: cheap, never cached, nothing revealed
(no versions, host names or error texts: only each dependency's status and latency)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from portal.ops.readiness import readiness


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
