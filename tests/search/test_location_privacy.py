"""Where a file was made reaches visitors only when the editor shares it, and then to about 1 km:
on the asset page and in the search's place filter. Editors see and filter by exact locations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.library.models import Kind
from portal.search.backends.base import GeoFilter, SearchQuery
from portal.search.index import alias_name
from portal.search.selectors import search_run
from tests.search.engine import client

pytestmark = pytest.mark.django_db
NEST = {"gps": {"lat": 38.713912, "lon": -9.139456}}
NEAR_NEST = {"q": "osprey", "lat": "38.72", "lon": "-9.14", "km": "5"}


@pytest.fixture
def nests(asset_factory, indexed):
    hidden = asset_factory(title="Osprey nest", kind=Kind.IMAGE, media=NEST)
    shared = asset_factory(title="Osprey over the bay", kind=Kind.IMAGE, media=NEST, share_location=True)
    indexed(hidden, shared)
    return hidden, shared


@pytest.mark.parametrize("who", ["anonymous", "visitor"])
def test_a_visitor_sees_no_coordinates_unless_shared_and_then_only_coarsened(nests, client, client_as, visitor, who):
    browser = client if who == "anonymous" else client_as(visitor)
    hidden, shared = nests
    page = browser.get(hidden.get_absolute_url()).content.decode()
    assert "Location" not in page
    assert "38.7" not in page
    assert "-9.1" not in page
    page = browser.get(shared.get_absolute_url()).content.decode()
    assert "about 38.71, -9.14" in page
    assert "38.7139" not in page
    assert "9.1394" not in page


def test_an_editor_sees_the_exact_location_shared_or_not(nests, client_as, editor):
    hidden, shared = nests
    browser = client_as(editor)
    page = browser.get(hidden.get_absolute_url()).content.decode()
    assert "38.713912, -9.139456 (shown to editors only)" in page
    assert "38.713912, -9.139456</dd>" in browser.get(shared.get_absolute_url()).content.decode()


@pytest.mark.parametrize("who", ["anonymous", "visitor"])
def test_a_visitors_place_filter_finds_only_shared_locations(nests, client, client_as, visitor, who):
    browser = client if who == "anonymous" else client_as(visitor)
    html = browser.get(reverse("search:results"), NEAR_NEST).content.decode()
    assert "over the bay" in html
    assert "<mark>Osprey</mark> nest" not in html
    near = GeoFilter(lat=38.72, lon=-9.14, km=5)
    assert [hit.title for hit in search_run(query=SearchQuery(text="osprey", near=near)).hits] == [
        "Osprey over the bay"]


def test_an_editors_place_filter_uses_exact_locations(nests, client_as, editor):
    html = client_as(editor).get(reverse("search:results"), NEAR_NEST).content.decode()
    assert "<mark>Osprey</mark> nest" in html
    assert "over the bay" in html


def test_the_index_holds_the_visitors_point_coarsened_and_only_when_shared(nests):
    hidden, shared = nests
    stored = {int(hit["_id"]): hit["_source"] for hit in client().search(index=alias_name())["hits"]["hits"]}
    assert stored[shared.pk]["shared_location"] == {"lat": 38.71, "lon": -9.14}
    assert stored[hidden.pk]["shared_location"] is None
    assert stored[hidden.pk]["location"] == {"lat": 38.713912, "lon": -9.139456}


def test_the_studio_form_sets_the_opt_in(nests, client_as, editor):
    hidden, _ = nests
    browser = client_as(editor)
    form = browser.get(reverse("studio:asset_edit", args=[hidden.pk])).context["form"]
    data = {**form.initial, "collections": [], "share_location": "on"}
    response = browser.post(reverse("studio:asset_edit", args=[hidden.pk]), data)
    assert response.status_code in (200, 302)
    hidden.refresh_from_db()
    assert hidden.share_location is True
    assert hidden.shared_location == (38.71, -9.14)
