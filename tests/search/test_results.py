"""What the results page and the suggestions show: facet counts that follow the query, safe
highlighting, the geo filter and pagination, through the real views and the real node."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from portal.library.models import Kind
from portal.search.backends.base import GeoFilter, SearchQuery
from portal.search.selectors import search_run
from portal.search.signals import search_performed

pytestmark = pytest.mark.django_db


def facet(results, name):
    return {bucket.value: bucket.count for bucket in results.facets[name]}


def test_facet_counts_follow_the_query_and_the_other_facets_choices(
    asset_factory, tag_factory, collection_factory, indexed
):
    birds, night = tag_factory(name="birds"), tag_factory(name="night")
    coast = collection_factory(title="Coast")
    when = {2024: datetime(2024, 5, 1, tzinfo=UTC), 2025: datetime(2025, 6, 1, tzinfo=UTC)}
    indexed(
        asset_factory(title="Gulls over the bay", kind=Kind.VIDEO, tags=[birds], collections=[coast],
                      published_at=when[2024]),
        asset_factory(title="Gulls at dusk", kind=Kind.IMAGE, tags=[birds, night], published_at=when[2025]),
        asset_factory(title="Gulls calling", kind=Kind.AUDIO, tags=[birds], collections=[coast],
                      published_at=when[2025]),
        asset_factory(title="Owls at night", kind=Kind.AUDIO, tags=[night], published_at=when[2025]),
    )
    gulls = search_run(query=SearchQuery(text="gulls"))
    assert gulls.total == 3
    assert facet(gulls, "kind") == {"video": 1, "image": 1, "audio": 1}
    assert facet(gulls, "tags") == {"birds": 3, "night": 1}
    assert facet(gulls, "collections") == {coast.slug: 2}
    assert facet(gulls, "year") == {"2025": 2, "2024": 1}
    assert {b.label for b in gulls.facets["collections"]} == {"Coast"}
    assert {b.label for b in gulls.facets["kind"]} == {"Video", "Image", "Audio"}

    narrowed = search_run(query=SearchQuery(text="gulls", tags=("night",)))
    assert [hit.title for hit in narrowed.hits] == ["Gulls at dusk"]
    assert narrowed.total == 1
    assert facet(narrowed, "year") == {"2025": 1}  # other facets follow the picked tag
    assert facet(narrowed, "tags") == {"birds": 1, "night": 1}  # tags AND together: what ticking one more gives
    by_year = search_run(query=SearchQuery(text="gulls", year=2025, kind="audio"))
    assert [hit.title for hit in by_year.hits] == ["Gulls calling"]
    assert facet(by_year, "kind") == {"image": 1, "audio": 1}  # the 2025 gulls, by kind: switching is one click
    assert facet(by_year, "year") == {"2025": 1}  # the audio gulls, by year


def test_matches_are_highlighted_and_everything_else_escaped(asset_factory, indexed, client):
    indexed(asset_factory(title="<script>alert(1)</script> Sunset <b>bold</b>",
                          description="A <img src=x onerror=alert(2)> sunset over water."))
    html = client.get(reverse("search:results"), {"q": "sunset"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Sunset</mark> &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt; <mark>sunset</mark> over water." in html


def test_suggestions_highlight_the_typed_prefix_and_escape_titles(asset_factory, indexed, client):
    indexed(asset_factory(title="Marmot <em>colony</em>"))
    response = client.get(reverse("search:suggest"), {"q": "marm"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'role="option"' in html
    assert "<mark>Marmot</mark> &lt;em&gt;colony&lt;/em&gt;" in html
    assert "1 suggestion" in html
    assert 'data-href="/assets/' in html
    assert "<a " not in html  # no interactive element inside an option: ARIA makes its content presentational
    assert "{#" not in html
    assert "#}" not in html


def test_geo_filter_keeps_only_items_within_the_distance(asset_factory, indexed, client):
    lisbon = asset_factory(title="Tram 28", kind=Kind.IMAGE, share_location=True,
                           media={"gps": {"lat": 38.7139, "lon": -9.1394}})
    porto = asset_factory(title="Tram museum", kind=Kind.IMAGE, share_location=True,
                          media={"gps": {"lat": 41.1496, "lon": -8.6109}})
    nowhere = asset_factory(title="Tram ticket", kind=Kind.IMAGE)
    indexed(lisbon, porto, nowhere)
    near_lisbon = GeoFilter(lat=38.72, lon=-9.14, km=50)
    assert [h.title for h in search_run(query=SearchQuery(text="tram", near=near_lisbon)).hits] == ["Tram 28"]
    wide = search_run(query=SearchQuery(text="tram", near=GeoFilter(lat=38.72, lon=-9.14, km=400)))
    assert {h.title for h in wide.hits} == {"Tram 28", "Tram museum"}
    assert search_run(query=SearchQuery(text="tram")).total == 3
    page = client.get(reverse("search:results"), {"q": "tram", "lat": "38.72", "lon": "-9.14", "km": "50"})
    assert page.status_code == 200
    assert "<mark>Tram</mark> 28" in page.content.decode()
    assert "museum" not in page.content.decode()


def test_a_bad_place_filter_is_reported_and_left_out(asset_factory, indexed, client):
    indexed(asset_factory(title="Tram depot"))
    page = client.get(reverse("search:results"), {"q": "tram", "lat": "999", "lon": "x", "km": "-1"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "The place filter needs a latitude" in html
    assert "<mark>Tram</mark> depot" in html


def test_pagination_walks_all_results(asset_factory, indexed, client):
    indexed(*[asset_factory(title=f"Lantern {n:02d}") for n in range(23)])
    first = client.get(reverse("search:results"), {"q": "lantern"}).content.decode()
    second = client.get(reverse("search:results"), {"q": "lantern", "page": "2"}).content.decode()
    assert "23 results" in first
    assert "Page 1 of 2" in first
    assert first.count('class="search-hit"') == 20
    assert second.count('class="search-hit"') == 3
    assert 'rel="prev"' in second


def test_htmx_asks_get_only_the_results_region(asset_factory, indexed, client):
    indexed(asset_factory(title="Kestrel"))
    response = client.get(reverse("search:results"), {"q": "kestrel"},
                          headers={"HX-Request": "true", "HX-Target": "search-body"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="search-body"')
    assert "Kestrel" in html
    assert "HX-Request" in response["Vary"]


def test_suggest_without_javascript_lands_on_the_results_page(client):
    response = client.get(reverse("search:suggest"), {"q": "kestrel"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('search:results')}?q=kestrel"


def test_every_search_is_announced_after_it_ran(asset_factory, indexed, client):
    indexed(asset_factory(title="Heron"), asset_factory(title="Heron nest"))
    heard = []

    def listener(sender, **kwargs):
        heard.append((kwargs["query"], kwargs["result_count"], kwargs["source"], kwargs["request"].path))

    search_performed.connect(listener)
    try:
        client.get(reverse("search:results"), {"q": "heron"})
        client.get(reverse("search:suggest"), {"q": "her"}, headers={"HX-Request": "true"})
    finally:
        search_performed.disconnect(listener)
    assert heard == [("heron", 2, "results", "/search/"), ("her", 2, "suggest", "/search/suggest/")]


def test_the_header_has_the_search_combobox(client, db):
    html = client.get(reverse("library:about")).content.decode()
    assert 'role="combobox"' in html
    assert 'aria-controls="site-search-listbox"' in html
    assert 'hx-trigger="input changed delay:150ms, search"' in html
    assert 'hx-sync="this:replace"' in html
    assert f'action="{reverse("search:results")}"' in html
