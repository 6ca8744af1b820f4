"""Whole-response cache for visitors who carry no identity (no session, no messages cookie).

Such a visitor's page is the same for all of them, so it is cached whole, stamped with the
content generation like fragments (see fragments.py): a hit is one cache round trip and no
template rendering at all. Anyone with a session (signed-in users, editors) skips this layer
and gets fragment-cached pages instead, so nothing per-user is ever stored under a shared key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from portal.core.fragments import fragment_key, is_miss, request_cache

ViewFunc = Callable[..., HttpResponse]


def carries_identity(request: HttpRequest) -> bool:
    cookies = request.COOKIES
    # A CSRF cookie alone is no identity: these pages never render a token for anonymous visitors.
    return settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies


def cache_page_for_anonymous(vary_on: Callable[..., tuple[object, ...]]) -> Callable[[ViewFunc], ViewFunc]:
    """vary_on(request, *args, **kwargs) → the normalised inputs the page depends on
    (never the raw query string: junk parameters must not mint new keys)."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in ("GET", "HEAD") or carries_identity(request):
                return view(request, *args, **kwargs)
            htmx = getattr(request, "htmx", None)
            key = fragment_key(f"page:{view.__name__}", *vary_on(request, *args, **kwargs),
                               bool(htmx), htmx.target if htmx else None)
            store = request_cache(request)
            hit = store.get(key)
            if not is_miss(hit):
                content, content_type = hit
                response = HttpResponse(content, content_type=content_type)
            else:
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.cookies and not response.streaming:
                    store.set(key, (response.content, response["Content-Type"]))
            # The page depends on being anonymous and on htmx asking: say so to every cache downstream.
            patch_vary_headers(response, ("Cookie", "HX-Request"))
            return response

        return wrapper

    return decorator
