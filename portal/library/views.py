"""Visitor pages: parse input, call a selector, render; the partial when htmx asks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_safe

from portal.core.fragments import cached_value, fragment_key, preload
from portal.core.http import HtmxHttpRequest, cache_page_for_visitors, vary_on_htmx
from portal.core.pagecache import cache_page_for_anonymous
from portal.library import selectors
from portal.library.models import Asset, Collection

FACETS_KEY = "aggregate:facets"
COLLECTIONS_KEY = "aggregate:collections"
SLUGS_KEY = "aggregate:filter-slugs"
RESULTS_TARGET = "results"  # the id of the region the filters and pages swap
MAX_PAGE = 10_000


def page_number(raw: str | None) -> int:
    """Any junk in ?page= becomes a sane page number, never an error and never a new cache key per junk."""
    try:
        return min(max(int(raw or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


def lazy_page(queryset: Callable[[], QuerySet[Asset]], number: int, per_page: int) -> Page:
    """Queries run only if the template renders the page, i.e. on a fragment-cache miss.

    Building the queryset waits too: its select_related/prefetch_related clones cost ~0.2 ms, a
    tenth of a warm /browse/ request, for nothing on a cache hit.
    """
    return SimpleLazyObject(lambda: Paginator(queryset(), per_page).get_page(number))  # type: ignore[return-value]


def _results_or_page(request: HtmxHttpRequest, template: str, context: dict[str, object]) -> HttpResponse:
    partial = request.htmx and request.htmx.target == RESULTS_TARGET
    return vary_on_htmx(render(request, f"{template}#results" if partial else template, context))


def browse_filters(request: HtmxHttpRequest) -> selectors.BrowseFilters:
    """?tag= and ?collection= count only when they name an existing tag or collection; any other
    value is ignored, like junk in ?page=, so that no client can mint cache keys by inventing slugs.
    The known slugs are one generation-stamped cache value, read only when a filter is given."""
    filters = selectors.BrowseFilters.from_query(request.GET)
    if not (filters.tag or filters.collection):
        return filters
    known = cached_value(request, SLUGS_KEY, selectors.filter_slugs)
    return replace(filters, tag=filters.tag if filters.tag in known["tags"] else "",
                   collection=filters.collection if filters.collection in known["collections"] else "")


def _browse_inputs(request: HtmxHttpRequest) -> tuple[object, ...]:
    # The parsed fields themselves, not as_query()'s string: as normalised, and no QueryDict to
    # build on every cache hit.
    filters = browse_filters(request)
    return filters.kind, filters.tag, filters.collection, filters.sort, page_number(request.GET.get("page"))


def _collection_inputs(request: HtmxHttpRequest, slug: str) -> tuple[object, ...]:
    return slug, page_number(request.GET.get("page"))


@require_GET
@cache_page_for_anonymous(lambda request: ())
def home(request: HtmxHttpRequest) -> HttpResponse:
    preload(request, fragment_key("home"))
    context = {
        "featured": SimpleLazyObject(lambda: selectors.asset_featured()),
        "latest": SimpleLazyObject(lambda: selectors.asset_latest()),
    }
    return render(request, "library/home.html", context)


@require_GET
@cache_page_for_anonymous(_browse_inputs, targets=(RESULTS_TARGET,))
def browse(request: HtmxHttpRequest) -> HttpResponse:
    filters = browse_filters(request)
    number = page_number(request.GET.get("page"))
    results_key = fragment_key("browse-results", filters.as_query(), number)
    partial = bool(request.htmx)
    preload(request, results_key, *([] if partial else [FACETS_KEY]))  # one cache round trip for the page
    context = {
        "filters": filters,
        "page_number": number,
        "page": lazy_page(lambda: selectors.asset_list(filters=filters), number, _page_size()),
        "facets": None if partial else cached_value(request, FACETS_KEY, selectors.facet_counts),
        "sort_labels": selectors.SORT_LABELS,
    }
    return _results_or_page(request, "library/browse.html", context)


@require_safe  # HEAD too (link checkers); only GETs are counted as views
def asset_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    asset = selectors.asset_detail(viewer=request.user, slug=slug)
    if asset is None:  # missing, or private to someone else: the same answer, so nothing leaks
        raise Http404("No such asset")
    return render(request, "library/asset_detail.html", {"asset": asset})


@require_GET
@cache_page_for_anonymous(lambda request: ())
def collection_list(request: HtmxHttpRequest) -> HttpResponse:
    collections = cached_value(request, COLLECTIONS_KEY, selectors.collection_list)
    return render(request, "library/collections.html", {"collections": collections})


@require_GET
@cache_page_for_anonymous(_collection_inputs, targets=(RESULTS_TARGET,))
def collection_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    collection = get_object_or_404(Collection, slug=slug)
    filters = selectors.BrowseFilters(collection=collection.slug)
    number = page_number(request.GET.get("page"))
    preload(request, fragment_key("collection-results", collection.slug, number))
    context = {
        "collection": collection,
        "filters": filters,
        "page_number": number,
        "page": lazy_page(lambda: selectors.asset_list(filters=filters), number, _page_size()),
    }
    return _results_or_page(request, "library/collection_detail.html", context)


@require_GET
@cache_page_for_visitors(60 * 60)
def about(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "library/about.html")


@require_GET
@cache_page_for_visitors(60 * 60)
def help_page(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "library/help.html")


def _page_size() -> int:
    return int(settings.PAGE_SIZE)  # read per request, so tests can override it
