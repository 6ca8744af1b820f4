"""Clients cannot mint cache entries: invented HX-Target headers, tags and collections all land on
keys that already exist (counted in this run's own Redis cache database)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_redis import get_redis_connection

pytestmark = pytest.mark.django_db
JUNK = 10_000


def keys_in_cache() -> int:
    return int(get_redis_connection("default").dbsize())  # this run's own database (CACHE_URL)


def junk_request(client: Client, number: int) -> int:
    kind = number % 4
    if kind == 0:
        return client.get("/browse/", {"tag": f"junk-{number}"}).status_code
    if kind == 1:
        return client.get("/browse/", {"collection": f"junk-{number}"}).status_code
    headers = {"HX-Request": "true", "HX-Target": f"junk-{number}"}
    path = "/browse/" if kind == 2 else "/collections/coast/"
    return client.get(path, {"tag": "night"} if kind == 2 else {}, headers=headers).status_code


def test_ten_thousand_junk_values_create_no_cache_keys(asset_factory, tag_factory, collection_factory):
    coast = collection_factory(slug="coast")
    asset = asset_factory(tags=[tag_factory(name="night", slug="night")])
    asset.collections.add(coast)
    client = Client()
    # The pages every junk value must fall back onto, visited once (their keys are legitimate).
    for path, query in [("/browse/", {}), ("/browse/", {"tag": "night"}), ("/collections/coast/", {})]:
        for headers in ({}, {"HX-Request": "true"}):
            assert client.get(path, query, headers=headers).status_code == 200
    before = keys_in_cache()
    assert before > 0
    statuses = {junk_request(client, number) for number in range(JUNK)}
    assert statuses == {200}
    assert keys_in_cache() == before


def test_a_known_target_still_gets_its_partial_and_a_known_tag_still_filters(asset_factory, tag_factory):
    asset_factory(title="Owl", tags=[tag_factory(name="night", slug="night")])
    asset_factory(title="Gull")
    client = Client()
    partial = client.get("/browse/", {"tag": "night"}, headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in partial.content.decode()
    assert "Owl" in partial.content.decode()
    assert "Gull" not in partial.content.decode()
    page = client.get("/browse/", {"tag": "night"}, headers={"HX-Request": "true", "HX-Target": "elsewhere"})
    assert "<html" in page.content.decode()
    junk = client.get("/browse/", {"tag": "no-such-tag"}).content.decode()
    assert "Owl" in junk  # an unknown tag is ignored, like junk in ?page=
    assert "Gull" in junk
