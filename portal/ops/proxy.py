"""Who the client is, and over which scheme it came: only the balancer may say.

Behind the balancer every request arrives from the balancer's own address, carrying the
client's address in X-Forwarded-For and the scheme in X-Forwarded-Proto. Those headers are
believed only when the direct peer (REMOTE_ADDR) is a trusted proxy (FORWARDED_ALLOW_IPS, the
same list gunicorn and uvicorn use); from anyone else they are deleted before Django's
SECURE_PROXY_SSL_HEADER, the login throttle or a log line could read them.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CLIENT_IP_KEY = "portal.client_ip"
# The balancer's X-Request-ID of the request being served, for log lines (RequestIdFilter).
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_X_REAL_IP", "HTTP_FORWARDED", "HTTP_X_REQUEST_ID")


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@functools.cache
def _trusted_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None:
    """FORWARDED_ALLOW_IPS as gunicorn and uvicorn read it: addresses or networks (10.0.0.0/16),
    spaces around the commas ignored; "*" (None here) trusts every peer."""
    names = [entry.strip() for entry in entries if entry.strip()]
    if "*" in names:
        return None
    return tuple(ipaddress.ip_network(name, strict=False) for name in names)


def from_trusted_proxy(remote_addr: str) -> bool:
    networks = _trusted_networks(tuple(settings.FORWARDED_ALLOW_IPS))
    if networks is None:
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False  # a unix socket or a malformed peer is nobody we trust
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address as the balancer saw it (or the direct peer's, without a balancer)."""
    return str(request.META.get(CLIENT_IP_KEY) or request.META.get("REMOTE_ADDR", ""))


class TrustedProxyMiddleware:
    """First in MIDDLEWARE: settles the client's address and scheme before anything reads them,
    and names the instance that answered (X-Served-By) when PORTAL_INSTANCE is set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        remote = str(meta.get("REMOTE_ADDR", ""))
        client = remote
        if from_trusted_proxy(remote):
            # Our nginx overwrites the header with the peer it saw; balancers that append instead
            # (many PaaS routers) leave client-sent entries to the left, which may be forged, so
            # only the rightmost entry counts.
            hops = [hop.strip() for hop in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
            if hops[-1] and _valid_ip(hops[-1]):
                client = hops[-1]
        else:
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
        meta[CLIENT_IP_KEY] = client
        token = current_request_id.set(str(meta.get("HTTP_X_REQUEST_ID", "-"))[:64])
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        if settings.PORTAL_INSTANCE:
            response["X-Served-By"] = settings.PORTAL_INSTANCE
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record: the balancer's id while a request is served, else "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
