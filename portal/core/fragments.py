"""Fragment and aggregate caching that never has to find and delete a key.

Every cached value is stored with the content generation it was built from.
A write that visitors could see bumps the generation (one INCR); every older
value is then stale on its next read and rebuilt. Keys built from a content
version (asset pk + version) change by themselves on an edit.

A read costs one round trip: the generation and all the values a page needs
are fetched together with `get_many` and remembered on the request, so a
cached page is one cache call, and a dead cache server is a miss, not an error.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.http import HttpRequest

from portal.core.dbrouter import content_committed

GENERATION_KEY = "content:generation"
T = TypeVar("T")
_MISS = object()


def fragment_key(name: str, *vary_on: object) -> str:
    digest = hashlib.blake2s(repr(vary_on).encode(), digest_size=12).hexdigest()
    return f"fragment:{name}:{digest}"


def bump_generation() -> None:
    """Called (on commit) by every write a visitor could see; old values go stale at once."""
    content_committed()  # first: nothing is cached under the new generation from a replica behind it
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # first write ever, or the key was flushed or evicted
        # Seeded from the clock, not 1: a generation must never come back after a reset, or a value
        # stamped before it (a page memo in a web process, a fragment that outlived the key) would
        # pass for fresh again.
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)  # no writer outpaces 10⁹ a second
        cache.incr(GENERATION_KEY)


class RequestCache:
    """The values one request needs, read in a single `get_many`."""

    def __init__(self) -> None:
        self.generation: int | None = None
        self.values: dict[str, Any] = {}
        self.loaded: set[str] = set()

    def preload(self, keys: Iterable[str]) -> None:
        wanted = [key for key in keys if key not in self.loaded]
        if not wanted and self.generation is not None:
            return
        found = cache.get_many([GENERATION_KEY, *wanted])
        if self.generation is None:
            self.generation = found.get(GENERATION_KEY, 0)
        self.values.update({key: found[key] for key in wanted if key in found})
        self.loaded.update(wanted)

    def current_generation(self) -> int | None:
        """The content generation (one round trip, shared with the request's later reads); None when
        the cache has none or cannot answer."""
        self.preload(())
        return self.generation or None

    def get(self, key: str) -> Any:
        """The fresh value for key, or _MISS when absent or built from an older generation."""
        self.preload([key])
        stamped = self.values.get(key)
        if isinstance(stamped, tuple) and len(stamped) == 2 and stamped[0] == self.generation:
            return stamped[1]
        return _MISS

    def set(self, key: str, value: Any) -> None:
        cache.set(key, (self.generation, value))
        self.values[key] = (self.generation, value)


def request_cache(request: HttpRequest | None) -> RequestCache:
    if request is None:
        return RequestCache()
    existing = getattr(request, "_portal_cache", None)
    if existing is None:
        existing = RequestCache()
        request._portal_cache = existing  # type: ignore[attr-defined]
    return existing


def preload(request: HttpRequest, *keys: str) -> None:
    request_cache(request).preload(keys)


def cached_value(request: HttpRequest | None, key: str, build: Callable[[], T]) -> T:
    """Low-level cache for expensive aggregates, stamped with the generation like fragments."""
    store = request_cache(request)
    value = store.get(key)
    if value is _MISS:
        value = build()
        store.set(key, value)
    return value


def is_miss(value: object) -> bool:
    return value is _MISS
