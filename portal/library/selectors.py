"""Every read the library's pages need, each with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.http import QueryDict

from portal.library.models import Asset, Collection, Kind, Status, Tag, listed_through

ORDERINGS = {
    "newest": ("-published_at", "-id"),
    "oldest": ("published_at", "id"),
    "title": ("title", "id"),
}
LISTED_THROUGH_ASSETS = listed_through("assets")
SORT_LABELS = {"newest": "Newest first", "oldest": "Oldest first", "title": "Title A–Z"}
KINDS = frozenset(Kind.values)  # Kind.values builds a new list on every call: once per cache hit


@dataclass(frozen=True)
class BrowseFilters:
    """Browse input, parsed leniently: an unknown value is ignored, never a 500."""

    kind: str = ""
    tag: str = ""
    collection: str = ""
    sort: str = "newest"

    @classmethod
    def from_query(cls, query: QueryDict) -> BrowseFilters:
        kind = query.get("kind", "")
        sort = query.get("sort", "newest")
        return cls(
            kind=kind if kind in KINDS else "",
            tag=query.get("tag", "")[:60],
            collection=query.get("collection", "")[:220],
            sort=sort if sort in ORDERINGS else "newest",
        )

    def as_lookups(self) -> dict[str, str]:
        lookups = {}
        if self.kind:
            lookups["kind"] = self.kind
        if self.tag:
            lookups["tags__slug"] = self.tag
        if self.collection:
            lookups["collections__slug"] = self.collection
        return lookups

    def as_query(self, **overrides: Any) -> str:
        """The query string for these filters (defaults left out), for links and cache keys."""
        values = {"kind": self.kind, "tag": self.tag, "collection": self.collection, "sort": self.sort, **overrides}
        query = QueryDict(mutable=True)
        for key, value in values.items():
            if value and not (key == "sort" and value == "newest"):
                query[key] = str(value)
        return query.urlencode()

    @property
    def ordering(self) -> tuple[str, ...]:
        return ORDERINGS[self.sort]

    @property
    def active(self) -> bool:
        return bool(self.kind or self.tag or self.collection)


def _with_cards(queryset: QuerySet[Asset]) -> QuerySet[Asset]:
    """What a result card shows: the owner and tags, fetched in one extra query for the page."""
    return queryset.select_related("owner").prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))


def asset_list(*, filters: BrowseFilters) -> QuerySet[Asset]:
    return _with_cards(Asset.objects.listed().filter(**filters.as_lookups()).order_by(*filters.ordering))


def asset_featured(*, limit: int = 4) -> list[Asset]:
    return list(_with_cards(Asset.objects.listed().filter(featured=True).order_by("-published_at")[:limit]))


def asset_latest(*, limit: int = 8) -> list[Asset]:
    return list(_with_cards(Asset.objects.listed().order_by("-published_at", "-id")[:limit]))


def asset_detail(*, viewer: object, slug: str) -> Asset | None:
    """The asset if this viewer may open it; None otherwise (the view answers 404, never 403)."""
    queryset = _with_cards(Asset.objects.visible_to(viewer)).prefetch_related("collections")
    return queryset.filter(slug=slug).first()


def facet_counts() -> dict[str, Any]:
    """Counts per kind, tag and collection over listed assets: three grouped queries, cached by the caller."""
    kinds = dict(Asset.objects.listed().values_list("kind").annotate(n=Count("id")).order_by())
    tags = list(
        Tag.objects.filter(LISTED_THROUGH_ASSETS)
        .annotate(n=Count("assets")).order_by("-n", "name").values("slug", "name", "n")[:30]
    )
    collections = list(
        Collection.objects.filter(LISTED_THROUGH_ASSETS)
        .annotate(n=Count("assets")).order_by("title").values("slug", "title", "n")
    )
    return {
        "kinds": [{"value": value, "label": label, "n": kinds.get(value, 0)} for value, label in Kind.choices],
        "tags": tags,
        "collections": collections,
    }


def filter_slugs() -> dict[str, frozenset[str]]:
    """Every tag and collection slug: what ?tag= and ?collection= may name (two queries, cached by the caller)."""
    return {"tags": frozenset(Tag.objects.values_list("slug", flat=True)),
            "collections": frozenset(Collection.objects.values_list("slug", flat=True))}


def collection_list() -> list[dict[str, Any]]:
    return list(
        Collection.objects.annotate(n=Count("assets", filter=LISTED_THROUGH_ASSETS))
        .order_by("title").values("id", "slug", "title", "description", "n")
    )


def studio_assets(*, status: str = "") -> QuerySet[Asset]:
    queryset = Asset.objects.select_related("owner").order_by("-updated_at", "-id")
    return queryset.filter(status=status) if status in Status.values else queryset


def tag_list() -> list[dict[str, Any]]:
    """Every tag with how many assets have it (any status): what the studio's merge page shows."""
    return list(Tag.objects.annotate(n=Count("assets")).order_by("name").values("id", "slug", "name", "n"))
