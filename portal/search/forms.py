"""Search input, parsed leniently: junk is ignored or reported, never a 500."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.http import QueryDict

from portal.library.models import Kind
from portal.search.backends.base import GeoFilter, SearchQuery

MAX_TEXT = 200
PER_PAGE = 20
MAX_PAGE = 10_000 // PER_PAGE  # the engine's result window
MAX_KM = 20_000.0


def _number(raw: str, low: float, high: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    kind: str = ""
    tags: tuple[str, ...] = ()
    collection: str = ""
    year: str = ""
    lat: str = ""
    lon: str = ""
    km: str = ""
    page: int = 1
    errors: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, data: QueryDict) -> SearchParams:
        errors: list[str] = []
        kind = data.get("kind", "")
        year = data.get("year", "")
        try:
            page = min(max(int(data.get("page") or 1), 1), MAX_PAGE)
        except ValueError:
            page = 1
        params = cls(
            q=" ".join(data.get("q", "").split())[:MAX_TEXT],
            kind=kind if kind in Kind.values else "",
            tags=tuple(dict.fromkeys(tag[:60] for tag in data.getlist("tag") if tag))[:10],
            collection=data.get("collection", "")[:220],
            year=year if year.isdigit() and len(year) == 4 else "",
            lat=data.get("lat", "").strip()[:20],
            lon=data.get("lon", "").strip()[:20],
            km=data.get("km", "").strip()[:20],
            page=page,
        )
        if (params.lat or params.lon or params.km) and params.near is None:
            errors.append("The place filter needs a latitude (−90 to 90), a longitude (−180 to 180) and a "
                          f"distance in km (more than 0, at most {MAX_KM:,.0f}); it was left out.")
        return replace(params, errors=tuple(errors))

    @property
    def near(self) -> GeoFilter | None:
        lat, lon, km = _number(self.lat, -90, 90), _number(self.lon, -180, 180), _number(self.km, 0, MAX_KM)
        if lat is None or lon is None or not km:
            return None
        return GeoFilter(lat=lat, lon=lon, km=km)

    def to_query(self, *, exact_location: bool = False) -> SearchQuery:
        """`exact_location`: an editor's search (the place filter sees every asset's exact location)."""
        return SearchQuery(text=self.q, kind=self.kind, tags=self.tags, collection=self.collection,
                           year=int(self.year) if self.year else None, near=self.near,
                           exact_location=exact_location, page=self.page, per_page=PER_PAGE)

    def as_query(self, **overrides: Any) -> str:
        """The query string of these parameters (page 1 and empties left out), for links."""
        values: dict[str, Any] = {"q": self.q, "kind": self.kind, "tag": list(self.tags), "collection": self.collection,
                                  "year": self.year, "lat": self.lat, "lon": self.lon, "km": self.km,
                                  "page": self.page, **overrides}
        query = QueryDict(mutable=True)
        for key, value in values.items():
            if key == "page" and value == 1:
                continue
            if isinstance(value, list):
                query.setlist(key, [str(item) for item in value])
            elif value:
                query[key] = str(value)
        return query.urlencode()

    @property
    def has_filters(self) -> bool:
        return bool(self.kind or self.tags or self.collection or self.year or self.near)
