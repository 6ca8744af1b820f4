"""Whole-response cache for visitors who carry no identity (no session, no messages cookie).

Such a visitor's page is the same for all of them, so it is cached whole, stamped with the
content generation like fragments (see fragments.py). The lookup happens in a middleware near
the top of the stack, like Django's own per-site cache: a hit is one cache round trip, with no
session, auth, CSRF or template work at all. Anyone with a session (signed-in users, editors)
skips this layer and gets fragment-cached pages instead, so nothing per-user is ever stored
under a shared key. Views opt in with @cache_page_for_anonymous(vary_on).

Each web process also remembers the pages it served last (PageMemo), stamped with the generation:
a hit then reads only the generation from the cache server (a few bytes) instead of the whole page,
and deserialises nothing. Invalidation stays exact: a bump makes every memo stale on its next read.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, URLResolver, get_resolver, get_urlconf
from django.urls.resolvers import ResolverMatch
from django.utils.cache import patch_vary_headers

from portal.core.fragments import RequestCache, fragment_key, is_miss, request_cache

ViewFunc = Callable[..., HttpResponse]
VaryOn = Callable[..., tuple[object, ...]]
# Headers the cached response keeps; the rest (Date, Content-Length…) are made fresh.
KEPT_HEADERS = ("Content-Type", "Vary", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                "Cross-Origin-Opener-Policy", "Content-Language")


def carries_identity(request: HttpRequest) -> bool:
    # A CSRF cookie alone is no identity: these pages never render a token for anonymous visitors.
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies


def cache_page_for_anonymous(vary_on: VaryOn, *, targets: tuple[str, ...] = ()) -> Callable[[ViewFunc], ViewFunc]:
    """vary_on(request, *args, **kwargs) → the normalised inputs the page depends on
    (never the raw query string: junk parameters must not mint new keys). targets: the HX-Target
    values the view answers differently (a partial); any other target is one key, not one each."""

    def decorator(view: ViewFunc) -> ViewFunc:
        view.anonymous_page_vary_on = vary_on  # type: ignore[attr-defined]  # read by the middleware
        view.anonymous_page_targets = targets  # type: ignore[attr-defined]
        return view

    return decorator


MAX_REMEMBERED_PATH = 200  # longer paths are resolved each time: junk must not fill the memo


@lru_cache(maxsize=2048)
def _resolved(path: str, resolver: URLResolver) -> ResolverMatch | None:
    """URL resolution, remembered per path: walking the URL patterns was a sixth of a cache hit's
    Python work. Keyed on the resolver too, which Django builds anew when the URLconf changes."""
    try:
        return resolver.resolve(path)
    except Resolver404:
        return None


def _page_key(request: HttpRequest) -> str | None:
    if request.method not in ("GET", "HEAD") or carries_identity(request):
        return None
    path, resolver = request.path_info, get_resolver(get_urlconf())
    match = _resolved(path, resolver) if len(path) <= MAX_REMEMBERED_PATH else _resolved.__wrapped__(path, resolver)
    if match is None:
        return None
    vary_on: VaryOn | None = getattr(match.func, "anonymous_page_vary_on", None)
    if vary_on is None:
        return None
    # META, not request.headers: that builds a dict of every header, on every hit.
    htmx = request.META.get("HTTP_HX_REQUEST") == "true"
    target = request.META.get("HTTP_HX_TARGET") if htmx else None
    known_target = target if target in getattr(match.func, "anonymous_page_targets", ()) else None
    return fragment_key(f"page:{match.url_name}", *vary_on(request, *match.args, **match.kwargs), htmx, known_target)


Page = tuple[bytes, list[tuple[str, str]]]


class PageMemo:
    """The pages this process served last, each stamped with the generation it was built from, and
    the generation itself, trusted for `trust_seconds` after the cache server last confirmed it.

    Within that window a hit sends nothing to the cache server: it is as stale as the balancer's own
    one-second microcache (deploy/nginx), and only for visitors without a session: editors never
    come through here. 0 asks the cache server on every hit (one small GET). Bounded, least
    recently used out first; gthread workers share it, hence the lock."""

    def __init__(self, size: int, trust_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.trust_seconds = trust_seconds
        self.clock = clock
        self.pages: OrderedDict[str, tuple[int, Page]] = OrderedDict()
        self.lock = threading.Lock()
        self.confirmed: tuple[int, float] | None = None  # (generation, when the cache server said so)

    def generation(self, store: RequestCache) -> int | None:
        confirmed, now = self.confirmed, self.clock()
        if confirmed is not None and now - confirmed[1] < self.trust_seconds:
            return confirmed[0]
        generation = store.current_generation()
        self.confirmed = (generation, now) if generation is not None else None
        return generation

    def get(self, key: str) -> tuple[int, Page] | None:
        with self.lock:
            stamped = self.pages.get(key)
            if stamped is not None:
                self.pages.move_to_end(key)
            return stamped

    def put(self, key: str, generation: int | None, page: Page) -> None:
        if self.size <= 0 or not generation:  # none: a flushed or dead cache server decides alone
            return
        if self.confirmed is None:  # the generation this request read: trusted from now, like one asked for
            self.confirmed = (generation, self.clock())
        with self.lock:
            self.pages[key] = (generation, page)
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


def _response(page: Page) -> HttpResponse:
    content, headers = page
    response = HttpResponse(content)
    for name, value in headers:
        response[name] = value
    return response


class AnonymousPageCacheMiddleware:
    """Place right after SecurityMiddleware and WhiteNoise: a hit skips everything below."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.memo = PageMemo(settings.PAGE_MEMO_PAGES, settings.PAGE_MEMO_TRUST_SECONDS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = _page_key(request)
        if key is None:
            return self.get_response(request)
        store = request_cache(request)
        # A page this process remembers costs the generation's few bytes at most; one it does not,
        # the generation and the page in one round trip.
        remembered = self.memo.get(key)
        if remembered is not None and remembered[0] == self.memo.generation(store):
            return _response(remembered[1])
        hit: Any = store.get(key)
        if not is_miss(hit):
            self.memo.put(key, store.generation, hit)
            return _response(hit)
        response = self.get_response(request)
        # The page depends on being anonymous and on htmx asking: say so to every cache downstream.
        patch_vary_headers(response, ("Cookie", "HX-Request"))
        if response.status_code == 200 and not response.cookies and not response.streaming:
            headers = [(name, response[name]) for name in KEPT_HEADERS if response.has_header(name)]
            store.set(key, (response.content, headers))
            self.memo.put(key, store.generation, (response.content, headers))
        return response
