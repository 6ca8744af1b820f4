"""django-auditlog's request context (who, from where) with the client address the portal settled.

auditlog's own middleware believes the first X-Forwarded-For entry, which a client can write;
portal.ops.proxy already kept only what the balancer vouches for.
"""

from __future__ import annotations

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest

from portal.ops.proxy import client_ip


class AuditMiddleware(AuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_ip(request) or None
