"""Unlisted and private assets never appear in listings; a private URL is a 404 to strangers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.library.models import Status, Visibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(asset_factory, visitor):
    return {
        "public": asset_factory(title="Public sunrise"),
        "unlisted": asset_factory(title="Unlisted sunrise", visibility=Visibility.UNLISTED),
        "private": asset_factory(title="Private sunrise", visibility=Visibility.PRIVATE, owner=visitor),
        "draft": asset_factory(title="Draft sunrise", status=Status.DRAFT, published_at=None),
    }


@pytest.mark.parametrize("url", ["/", "/browse/", "/browse/?sort=title", "/browse/?kind=video"])
def test_listings_show_only_published_public_assets(client, mixed, url):
    html = client.get(url).content.decode()
    assert "Public sunrise" in html
    for hidden in ("Unlisted sunrise", "Private sunrise", "Draft sunrise"):
        assert hidden not in html


def test_collection_page_lists_only_public_assets(client, mixed, collection_factory):
    collection = collection_factory()
    for asset in mixed.values():
        asset.collections.add(collection)
    html = client.get(collection.get_absolute_url()).content.decode()
    assert "Public sunrise" in html
    assert "Unlisted sunrise" not in html
    assert "Private sunrise" not in html


def test_unlisted_asset_opens_by_link_for_anyone(client, mixed):
    assert client.get(mixed["unlisted"].get_absolute_url()).status_code == 200


def test_private_asset_is_404_for_visitors_and_other_users(client, client_as, mixed, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="pw-for-tests")
    url = mixed["private"].get_absolute_url()
    assert client.get(url).status_code == 404
    assert client_as(stranger).get(url).status_code == 404


def test_private_asset_opens_for_its_owner_and_editors(client_as, mixed, visitor, editor):
    url = mixed["private"].get_absolute_url()
    assert client_as(visitor).get(url).status_code == 200
    assert client_as(editor).get(url).status_code == 200


def test_draft_is_404_for_visitors(client, mixed):
    assert client.get(mixed["draft"].get_absolute_url()).status_code == 404


def test_html_in_a_title_is_escaped_everywhere(client, asset_factory):
    asset = asset_factory(title='<script>alert("x")</script> Night')
    for url in ("/", "/browse/", asset.get_absolute_url()):
        html = client.get(url).content.decode()
        assert '<script>alert("x")</script>' not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Night" in html


@pytest.mark.parametrize("query", [
    "?page=abc", "?page=-3", "?page=99999999999", "?kind=%00", "?sort=drop", "?tag=" + "x" * 500,
])
def test_junk_in_the_query_string_never_breaks_browse(client, mixed, query):
    assert client.get(reverse("library:browse") + query).status_code == 200
