"""Content-Security-Policy on every response: scripts only from our own origin.

No page has an inline script or handler (static/js/ holds every script; data for them travels in
data-* attributes or json_script blocks, which are not executed), so the policy needs no nonce and
is one constant string built at start-up from the origins the pages really load from: the S3
endpoint (uploads go there by XHR; private media and previews come from signed URLs) and the CDN
(public media, HLS segments fetched by hls.js). blob: is for hls.js (MediaSource URLs, its worker)
and Uppy's previews. Ours rather than django-csp: a nonce-free constant header is these few lines;
the package's value is nonces and per-view decorators, which nothing here needs.

Placed right after SecurityMiddleware (above the anonymous page cache), so cached pages carry it too.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def policy() -> str:
    media = " ".join(dict.fromkeys(filter(None, [_origin(settings.S3_ENDPOINT_URL), _origin(settings.CDN_BASE_URL),
                                                 *settings.CSP_EXTRA_SOURCES])))
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",  # no inline styles: htmx's own indicator style is off (base.html) and in portal.css
        "img-src": f"'self' data: blob: {media}",
        "media-src": f"'self' blob: {media}",
        "connect-src": f"'self' {media}",
        "worker-src": "'self' blob:",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = "Content-Security-Policy-Report-Only" if settings.CSP_REPORT_ONLY else "Content-Security-Policy"
        self.value = policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(self.header, self.value)
        return response
