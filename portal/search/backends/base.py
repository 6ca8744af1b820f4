"""The search port: what a backend does and the plain data it takes and returns.

Views and services see only these types; the engine's client never leaks past its backend.
Shaped after Wagtail's search backends (add, add_bulk, delete, search, autocomplete, rebuild), with
the read side (`SearchReader`) apart, so the PostgreSQL fallback is read-only by type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.search.index import MARK_END, MARK_START

if TYPE_CHECKING:
    from portal.library.models import Asset

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
    # The place filter uses exact locations (editors) or only the shared, coarsened ones (everyone else).
    exact_location: bool = False
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


class SearchReader(Protocol):
    """The read side: what the search page and the suggestions ask. Every backend has it; the
    PostgreSQL fallback has only it."""

    name: str

    def search(self, query: SearchQuery) -> SearchResults: ...

    def suggest(self, text: str, *, limit: int = 8) -> list[Hit]: ...


class SearchBackend(SearchReader, Protocol):
    """An engine: the read side plus the index it keeps. Chosen by settings.SEARCH_BACKEND through
    `portal.search.backends.get_search_backend`; services and selectors see only this.

    Writes take assets loaded with their relations (`documents.with_relations`): each engine turns
    them into its own documents (its dsl package's `Document.prepare`). All are idempotent, and
    raise SearchUnavailable when the engine does not answer (the indexing tasks retry on it)."""

    def health_check(self, timeout: float) -> None:
        """Raise SearchUnavailable unless the engine can serve within `timeout` seconds (readiness)."""
        ...

    def setup(self) -> str | None:
        """Create the index and its alias if missing; return the new index's name, or None."""
        ...

    def index(self, asset: Asset, *, refresh: bool = False) -> None: ...

    def bulk_index(self, assets: Iterable[Asset], *, progress: Progress | None = None) -> int: ...

    def delete(self, asset_id: int, *, refresh: bool = False) -> None: ...

    def ids_in_collection(self, collection_id: int) -> list[int]:
        """Assets the index holds as members of this collection (it may be gone from PostgreSQL)."""
        ...

    def rebuild(self, assets: Iterable[Asset], *, progress: Progress | None = None) -> str:
        """Fill a new index while the old one serves, then switch to it; return its name."""
        ...

    def refresh(self) -> None:
        """Make every write so far searchable now (tests and commands; the index also does it by itself)."""
        ...


def client_options(url: str) -> dict[str, Any]:
    """The engine client's hosts and retries for SEARCH_URL: one node's URL, or the URLs of a
    cluster's nodes separated by commas. With several, a request a node cannot take (refused, reset,
    timed out, 500 and 502-504 while it stops, starts or rejoins) goes to another node, and the client
    leaves the failed one out for 2 s (doubling while it keeps failing, at most 16 s), so a node back
    is asked again soon. Only when the nodes keep failing does the caller see an error (then the
    breaker and the PostgreSQL fallback). Each node gets two tries: with every node left out, the
    client hands threads one at random, and the dead one must not be a thread's last try.
    With one node there is nobody to retry."""
    hosts = [part.strip() for part in url.split(",") if part.strip()]
    if len(hosts) == 1:
        return {"hosts": hosts, "max_retries": 0, "retry_on_timeout": False}
    return {"hosts": hosts, "max_retries": 2 * len(hosts) - 1, "retry_on_timeout": True,
            "retry_on_status": (500, 502, 503, 504), "dead_timeout": 2, "timeout_cutoff": 3}


def highlighted(fragment: str) -> SafeString:
    """Escape everything, then turn only our private-use markers into <mark> (titles may hold HTML)."""
    return mark_safe(escape(fragment).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))  # noqa: S308
