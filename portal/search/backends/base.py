"""The search port: what a backend does and the plain data it takes and returns.

Views and services see only these types; the engine's client never leaks past its backend.
Shaped after Wagtail's search backends (add, add_bulk, delete, search, autocomplete, rebuild).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.search.index import MARK_END, MARK_START

Document = dict[str, Any]
Progress = Callable[[int], None]  # called with the number of documents just written


class SearchUnavailable(Exception):
    """The engine did not answer (down, timed out, refused): the caller falls back."""


@dataclass(frozen=True)
class GeoFilter:
    lat: float
    lon: float
    km: float


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    kind: str = ""
    tags: tuple[str, ...] = ()
    collection: str = ""
    year: int | None = None
    near: GeoFilter | None = None
    page: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Hit:
    id: int
    slug: str
    title: str
    title_html: SafeString
    snippet_html: SafeString
    kind: str
    published_at: datetime | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bucket:
    value: str
    count: int
    label: str = ""


@dataclass
class SearchResults:
    hits: list[Hit]
    total: int
    facets: dict[str, list[Bucket]] = field(default_factory=dict)
    took_ms: int | None = None  # the engine's own time for the query, when it reports one
    source: str = "opensearch"  # or "database" (the fallback)


class SearchBackend(Protocol):
    name: str

    def index(self, document: Document) -> None: ...

    def bulk_index(self, documents: Iterable[Document], *, progress: Progress | None = None) -> int: ...

    def delete(self, asset_id: int) -> None: ...

    def search(self, query: SearchQuery) -> SearchResults: ...

    def suggest(self, text: str, *, limit: int = 8) -> list[Hit]: ...

    def rebuild(self, documents: Iterable[Document], *, progress: Progress | None = None) -> str: ...


def highlighted(fragment: str) -> SafeString:
    """Escape everything, then turn only our private-use markers into <mark> (titles may hold HTML)."""
    return mark_safe(escape(fragment).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))  # noqa: S308
