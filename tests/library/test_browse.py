"""Browse: filters, sorting, pagination and the HTMX partial."""

from __future__ import annotations

import pytest
from django.test import override_settings

from portal.library.models import Kind

pytestmark = pytest.mark.django_db


def test_filters_by_kind_tag_and_collection(client, asset_factory, tag_factory, collection_factory):
    night, coast = tag_factory(name="night"), collection_factory(title="Coast")
    asset_factory(title="Owl call", kind=Kind.AUDIO, tags=[night], collections=[coast])
    asset_factory(title="Owl photo", kind=Kind.IMAGE, tags=[night])
    asset_factory(title="Beach walk", kind=Kind.VIDEO, collections=[coast])

    def titles(query: str) -> set[str]:
        page = client.get(f"/browse/?{query}").context["page"]
        return {asset.title for asset in page.object_list}

    assert titles("kind=audio") == {"Owl call"}
    assert titles("tag=night") == {"Owl call", "Owl photo"}
    assert titles(f"collection={coast.slug}") == {"Owl call", "Beach walk"}
    assert titles(f"tag=night&collection={coast.slug}") == {"Owl call"}


def test_sorts_by_title(client, asset_factory):
    for title in ("Charlie", "alpha", "Bravo"):
        asset_factory(title=title)
    page = client.get("/browse/?sort=title").context["page"]
    assert [a.title for a in page.object_list] == sorted(["Charlie", "alpha", "Bravo"])


@override_settings(PAGE_SIZE=2)
def test_paginates_and_links_keep_the_filters(client, asset_factory):
    for n in range(5):
        asset_factory(title=f"Clip {n}", kind=Kind.AUDIO)
    html = client.get("/browse/?kind=audio&page=2").content.decode()
    assert "Page 2 of 3" in html
    assert 'href="?kind=audio&amp;page=3"' in html


def test_htmx_request_gets_only_the_results_partial(client, asset_factory):
    asset_factory(title="Partial clip", kind=Kind.AUDIO)
    response = client.get("/browse/?kind=audio", headers={"HX-Request": "true", "HX-Target": "results"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Partial clip" in html
    assert "<html" not in html
    assert 'id="f-kind"' not in html  # the filter form stays on the page, untouched
    assert "HX-Request" in response["Vary"]


def test_without_htmx_the_same_url_is_a_full_page(client, asset_factory):
    asset_factory(title="Full clip", kind=Kind.AUDIO)
    html = client.get("/browse/?kind=audio").content.decode()
    assert "<html" in html
    assert 'id="f-kind"' in html
    assert "Full clip" in html


def test_empty_result_explains_itself(client):
    html = client.get("/browse/?kind=audio").content.decode()
    assert "No assets match these filters." in html
