"""Choosing the search backend: one factory in the shape of Wagtail's `get_search_backend`.

settings.SEARCH_BACKEND is the dotted path of the engine's class (default: the OpenSearch backend);
a second engine plugs in by naming its class there, nothing else changes. Callers get the
`SearchBackend` protocol, never a concrete class. Reads fall back along `search_chain()`: the
engine first, then PostgreSQL (read-only) when the engine fails or its breaker is open.
"""

from __future__ import annotations

from functools import cache
from typing import cast

from django.conf import settings
from django.utils.module_loading import import_string

from portal.search.backends.base import SearchBackend, SearchReader

DEFAULT_BACKEND = "portal.search.backends.opensearch.OpenSearchBackend"
FALLBACK_BACKEND = "portal.search.backends.database.DatabaseBackend"


@cache
def _load(path: str) -> SearchBackend | SearchReader:
    # One instance per class path and process: backends hold no per-request state.
    backend = import_string(path)()
    return cast(SearchBackend | SearchReader, backend)


def get_search_backend(path: str | None = None) -> SearchBackend:
    """The engine named by `path`, or by settings.SEARCH_BACKEND."""
    return cast(SearchBackend, _load(path or settings.SEARCH_BACKEND))


def get_fallback_backend() -> SearchReader:
    """PostgreSQL: answers reads while the engine cannot; it has no write side."""
    return _load(FALLBACK_BACKEND)


def search_chain() -> tuple[SearchReader, ...]:
    """Who answers a read, in order: the engine, then the fallback."""
    return (get_search_backend(), get_fallback_backend())
