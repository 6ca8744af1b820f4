"""The results page and the header's suggestions: parse, search, announce, render."""

from __future__ import annotations

from functools import cache
from math import ceil
from typing import Any

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from portal.core.http import HtmxHttpRequest, vary_on_htmx
from portal.search.forms import MAX_PAGE, MAX_TEXT, SearchParams
from portal.search.selectors import search_run, search_suggest
from portal.search.signals import search_performed

FALLBACK_NOTICE = ("Search is running in a reduced mode right now: results come from the database, "
                   "without typo tolerance for every word, tag and collection counts, or the place filter.")


@require_GET
def results(request: HtmxHttpRequest) -> HttpResponse:
    params = SearchParams.from_query(request.GET)
    found = search_run(query=params.to_query(exact_location=getattr(request.user, "is_editor", False)))
    fallback = found.source == "database"
    search_performed.send(sender=results, query=params.q, result_count=found.total, request=request,
                          source="fallback" if fallback else "results")
    pages = min(max(ceil(found.total / params.to_query().per_page), 1), MAX_PAGE)
    context: dict[str, Any] = {
        "params": params, "found": found, "notice": FALLBACK_NOTICE if fallback else "",
        "pages": pages,
        "previous_query": params.as_query(page=params.page - 1) if params.page > 1 else None,
        "next_query": params.as_query(page=params.page + 1) if params.page < pages else None,
    }
    partial = request.htmx and request.htmx.target == "search-body"
    return vary_on_htmx(render(request, "search/results.html#search-body" if partial else "search/results.html",
                               context))


@cache
def _url_patterns() -> tuple[str, str]:
    """An asset page's URL with a placeholder slug, and the results page's: reversed once per
    process, not once per option on every keystroke (slugs are URL-safe by construction)."""
    return reverse("library:asset", args=["-slug-"]), reverse("search:results")


@require_GET
def suggest(request: HtmxHttpRequest) -> HttpResponse:
    """Called on every keystroke: one engine query, then a small template fed ready-made links."""
    text = " ".join(request.GET.get("q", "").split())[:MAX_TEXT]
    if not request.htmx:  # a plain visit (no JavaScript) gets the full results page
        return HttpResponseRedirect(f"{reverse('search:results')}?{request.GET.urlencode()}")
    hits, _engine = search_suggest(text=text)
    if text:
        search_performed.send(sender=suggest, query=text, result_count=len(hits), request=request, source="suggest")
    asset_url, results_url = _url_patterns()
    options = [(asset_url.replace("-slug-", hit.slug), hit) for hit in hits]
    return vary_on_htmx(render(request, "search/_suggestions.html",
                               {"options": options, "q": text, "results_url": results_url}))
