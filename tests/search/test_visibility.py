"""Only published, public assets ever reach a visitor's results or suggestions: the rule is a
filter in the query itself, so a private document in the index is never returned."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.library.models import Status, Visibility
from portal.search.backends.base import SearchQuery
from portal.search.index import alias_name
from portal.search.selectors import search_run, search_suggest
from tests.search.engine import client

pytestmark = pytest.mark.django_db


@pytest.fixture
def otters(asset_factory, indexed):
    shown = asset_factory(title="Otter public")
    hidden = [
        asset_factory(title="Otter private", visibility=Visibility.PRIVATE),
        asset_factory(title="Otter unlisted", visibility=Visibility.UNLISTED),
        asset_factory(title="Otter draft", status=Status.DRAFT, published_at=None),
        asset_factory(title="Otter ready", status=Status.READY, published_at=None),
        asset_factory(title="Otter unpublished", status=Status.READY),  # published once, since taken down
    ]
    indexed(shown, *hidden)
    return shown, hidden


def test_the_index_holds_every_asset_but_a_search_returns_only_listed_ones(otters, search_index):
    assert client().count(index=alias_name())["count"] == 6
    results = search_run(query=SearchQuery(text="otter"))
    assert [hit.title for hit in results.hits] == ["Otter public"]
    assert results.total == 1
    assert sum(bucket.count for bucket in results.facets["kind"]) == 1


def test_suggestions_and_an_empty_query_show_only_listed_ones(otters):
    hits, _ = search_suggest(text="ott")
    assert [hit.title for hit in hits] == ["Otter public"]
    assert [hit.title for hit in search_run(query=SearchQuery()).hits] == ["Otter public"]


@pytest.mark.parametrize("who", ["visitor", "editor", "anonymous"])
def test_pages_never_show_hidden_items_to_anyone(otters, client, client_as, editor, visitor, who):
    browser = {"anonymous": client, "editor": client_as(editor), "visitor": client_as(visitor)}[who]
    page = browser.get(reverse("search:results"), {"q": "otter"}).content.decode()
    options = browser.get(reverse("search:suggest"), {"q": "ott"}, headers={"HX-Request": "true"}).content.decode()
    for html in (page, options):
        assert "public" in html
        for word in ("private", "unlisted", "draft", "ready", "unpublished"):
            assert f"Otter {word}" not in html
            assert f"</mark> {word}" not in html
