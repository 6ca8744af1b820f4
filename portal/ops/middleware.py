"""Health probes answered before anything checks the Host header, redirects to HTTPS or opens a
session: balancers and PaaS routers probe an instance by its own address (`Host: 10.0.3.7:8000`),
which is rightly not in ALLOWED_HOSTS, over plain HTTP and without cookies."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from portal.ops import views

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {"/healthz": views.healthz, "/readyz": views.readyz}


class HealthProbeMiddleware:
    """Second in MIDDLEWARE, right after the trusted-proxy reader."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
