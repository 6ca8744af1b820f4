"""Shared request typing and small response helpers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_page
from django_htmx.middleware import HtmxDetails

from portal.accounts.models import User

ViewFunc = Callable[..., HttpResponse]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: User | AnonymousUser


def vary_on_htmx(response: HttpResponse) -> HttpResponse:
    """The same URL answers with a full page or a partial: caches must keep them apart."""
    patch_vary_headers(response, ("HX-Request",))
    return response


def redirect_to_next(request: HttpRequest, fallback: str, *args: Any, **kwargs: Any) -> HttpResponseRedirect:
    """Back where a form said (its `next` field) when that is a page of this site; otherwise to
    fallback (a URL name and its arguments). A `next` pointing elsewhere is an open redirect."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return redirect(fallback, *args, **kwargs)


def cache_page_for_visitors(timeout: int) -> Callable[[ViewFunc], ViewFunc]:
    """Per-view cache for pages that are the same for every anonymous visitor.

    Signed-in users bypass it: their header carries their name and a CSRF-bearing
    logout form, which must never be served from a shared key.
    """

    def decorator(view: ViewFunc) -> ViewFunc:
        cached = cache_page(timeout)(view)

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated:
                return view(request, *args, **kwargs)
            return cached(request, *args, **kwargs)

        return wrapper

    return decorator
