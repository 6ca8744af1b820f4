"""Caching against both real servers: Redis (django-redis) and Memcached (PyMemcacheCache).

Writes never delete keys, yet every write path shows on a visitor's next request;
nothing per-user leaks through a shared key; a dead cache server costs speed, not pages.
"""

from __future__ import annotations

import sys

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from stackctl import config

from portal.library.models import Asset, Status

pytestmark = pytest.mark.django_db(transaction=True)  # writes announce themselves on commit
_CONFIGURED = django_settings.CACHES["default"]
# This run's own Redis database (CACHE_URL) when it is Redis: parallel runs each clear only theirs.
REDIS_LOCATION = (_CONFIGURED["LOCATION"] if _CONFIGURED["BACKEND"] == "django_redis.cache.RedisCache"
                  else f"redis://{config.HOST}:{config.PORTS.redis}/1")
BACKENDS = {
    "redis": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_LOCATION,
              "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25, "IGNORE_EXCEPTIONS": True}},
    "memcached": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
                  "LOCATION": config.URLS["MEMCACHED_URL"],
                  "OPTIONS": {"no_delay": True, "ignore_exc": True, "connect_timeout": 0.25, "timeout": 0.25}},
}


@pytest.fixture(params=list(BACKENDS))
def backend(request, settings) -> str:
    settings.CACHES = {"default": {**BACKENDS[request.param], "KEY_PREFIX": "test"}}
    cache.clear()
    return request.param


def browse(client) -> str:
    return client.get("/browse/").content.decode()


def test_an_anonymous_browse_page_is_served_from_the_page_cache(backend, client, asset_factory):
    asset = asset_factory(title="Cached title")
    assert "Cached title" in browse(client)
    Asset.objects.filter(pk=asset.pk).update(title="Changed behind the cache's back")
    assert "Cached title" in browse(client)  # a write outside the services is (rightly) not seen


def test_a_signed_in_users_browse_results_come_from_the_fragment_cache(backend, client_as, editor, asset_factory):
    asset = asset_factory(title="Fragment title")
    studio = client_as(editor)
    assert "Fragment title" in studio.get("/browse/").content.decode()
    Asset.objects.filter(pk=asset.pk).update(title="Changed behind the cache's back")
    html = studio.get("/browse/").content.decode()
    assert "Fragment title" in html  # the results fragment, shared, not re-rendered
    assert "Signed in as" in html  # around it, the page is this user's own


def test_an_edit_shows_on_the_next_request(backend, client, client_as, editor, asset_factory):
    asset = asset_factory(title="Before edit")
    assert "Before edit" in browse(client)
    client_as(editor).post(f"/studio/assets/{asset.pk}/edit/", {
        "title": "After edit", "kind": asset.kind, "visibility": "public", "version": asset.version})
    html = browse(client)
    assert "After edit" in html
    assert "Before edit" not in html


def test_publish_and_unpublish_show_on_the_next_request(backend, client, client_as, editor, asset_factory):
    asset = asset_factory(title="Fresh draft", status=Status.DRAFT, published_at=None)
    assert "Fresh draft" not in browse(client)
    assert "Fresh draft" not in client.get("/").content.decode()
    client_as(editor).post(f"/studio/assets/{asset.pk}/publish/")
    assert "Fresh draft" in browse(client)
    assert "Fresh draft" in client.get("/").content.decode()
    client_as(editor).post(f"/studio/assets/{asset.pk}/unpublish/")
    assert "Fresh draft" not in browse(client)


def test_a_delete_shows_on_the_next_request(backend, client, client_as, editor, asset_factory):
    asset = asset_factory(title="Soon gone")
    assert "Soon gone" in browse(client)
    client_as(editor).post(f"/studio/assets/{asset.pk}/delete/")
    assert "Soon gone" not in browse(client)


def test_facet_counts_follow_writes(backend, client, client_as, editor, asset_factory):
    asset_factory(kind="audio")
    assert "Audio (1)" in browse(client)
    draft = asset_factory(kind="audio", status=Status.DRAFT, published_at=None)
    client_as(editor).post(f"/studio/assets/{draft.pk}/publish/")
    assert "Audio (2)" in browse(client)


def test_nothing_per_user_is_served_from_a_shared_key(backend, client, client_as, editor, asset_factory):
    asset_factory(title="Shared card")
    editor_html = client_as(editor).get("/browse/").content.decode()
    assert "Signed in as" in editor_html  # the editor warmed the shared fragment...
    visitor_html = browse(client)
    assert "Shared card" in visitor_html
    assert "Signed in as" not in visitor_html  # ...and the visitor got none of the editor's page
    assert "csrfmiddlewaretoken" not in visitor_html
    assert "X-CSRFToken" not in visitor_html


def test_static_pages_are_cached_per_view_for_visitors_only(backend, client, client_as, editor):
    visitor = client.get("/about/")
    assert "max-age=3600" in visitor["Cache-Control"]
    signed_in = client_as(editor).get("/about/")
    assert "max-age" not in signed_in.get("Cache-Control", "")
    assert "Signed in as" in signed_in.content.decode()


class CountingConnection(redis.Connection):
    """A real connection that counts what it sends: each send is one round trip to Redis. Counted
    here, in this process, so other clients of the shared server (other runs, workers) never show."""

    sent = 0

    def send_packed_command(self, command: object, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


def test_a_cached_browse_page_costs_one_redis_round_trip(settings, client, asset_factory):
    redis_cache = settings.CACHES["default"]
    assert redis_cache["BACKEND"] == "django_redis.cache.RedisCache"  # the suite's default cache
    # A URL of its own (client_name): django-redis keeps one pool per URL for the whole process.
    settings.CACHES = {"default": {**redis_cache, "LOCATION": f"{redis_cache['LOCATION']}?client_name=round-trips",
                                   "OPTIONS": {**redis_cache.get("OPTIONS", {}),
                                               "CONNECTION_POOL_KWARGS": {"connection_class": CountingConnection}}}}
    asset_factory()
    browse(client)  # warm
    before = CountingConnection.sent
    assert "<html" in browse(client)
    assert CountingConnection.sent - before == 1  # one MGET: generation + fragment + facets


@pytest.mark.parametrize("url", ["/", "/browse/", "/browse/?kind=video", "/collections/", "/about/", "/help/",
                                 "/accounts/login/"])
def test_every_page_answers_with_the_cache_server_stopped(backend, client, asset_factory, stopped, url):
    asset_factory(title="Still here")
    with stopped(backend):
        response = client.get(url)
        assert response.status_code == 200
        if url.startswith("/browse"):
            assert "Still here" in response.content.decode()


def test_editors_keep_working_with_the_cache_server_stopped(backend, client, client_as, editor, asset_factory, stopped):
    asset = asset_factory(title="Draft in outage", status=Status.DRAFT, published_at=None)
    studio = client_as(editor)
    with stopped(backend):
        assert studio.get("/studio/").status_code == 200  # session read falls back to PostgreSQL
        assert studio.post(f"/studio/assets/{asset.pk}/publish/").status_code == 302
        assert client.get(asset.get_absolute_url()).status_code == 200
    asset.refresh_from_db()
    assert asset.status == Status.PUBLISHED


def test_anonymous_pages_say_they_vary_on_cookie_and_htmx(backend, client, asset_factory):
    asset_factory()
    for _ in range(2):  # the miss and the hit answer alike
        vary = client.get("/browse/")["Vary"]
        assert "Cookie" in vary
        assert "HX-Request" in vary


def page_keys() -> set[str]:
    # Pages and fragments; not aggregates (the list of known tags is built once for any ?tag=).
    return {key for key in cache.keys("*") if "aggregate:" not in key}


@pytest.mark.parametrize("spelling", ["?kind=video&utm_source=<b>junk</b>", "?utm_source=x&kind=video",
                                      "?kind=video&page=1", "?kind=video&page=abc", "?kind=video&tag=no-such-tag"])
def test_junk_query_parameters_share_the_normalised_page(client, asset_factory, spelling):
    assert hasattr(cache, "keys")  # Redis, this run's own database: its keys can be listed
    asset = asset_factory(title="Normalised", kind="video")
    assert "Normalised" in client.get("/browse/?kind=video").content.decode()
    keys = page_keys()
    Asset.objects.filter(pk=asset.pk).update(title="Renamed behind the cache")  # no generation bump
    html = client.get(f"/browse/{spelling}").content.decode()
    assert page_keys() == keys, "the same page spelled differently minted a cache key of its own"
    assert "Normalised" in html  # served from the entries the first spelling made
    assert "junk" not in html  # nothing of one visitor's URL is served to the next
    assert "Renamed behind the cache" in browse(client)  # a page that really differs is built afresh


def test_a_cached_anonymous_page_keeps_its_security_and_vary_headers(backend, client, asset_factory):
    asset_factory(title="Headers kept")
    miss, hit = client.get("/browse/"), client.get("/browse/")
    assert hit.content == miss.content
    assert "Headers kept" in hit.content.decode()
    for name in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Content-Type"):
        assert hit[name] == miss[name], name
    assert {"Cookie", "HX-Request"} <= {v.strip() for v in hit["Vary"].split(",")}


def test_a_visitor_with_a_session_never_gets_the_anonymous_page(backend, client, client_as, editor, asset_factory):
    asset_factory(title="Shared card")
    client.get("/browse/")  # cached whole for anonymous visitors
    html = client_as(editor).get("/browse/").content.decode()
    assert "Signed in as" in html


def test_a_cached_page_hit_resolves_no_url_and_builds_no_header_dict(client, asset_factory):
    """The hit path stays lean (bench/browse_cache.py measures it): the URL's resolution is
    remembered per path, and the htmx headers are read from META without building request.headers."""
    asset_factory()
    client.get("/browse/?kind=video")  # the miss: builds the page, resolves the path once
    calls: list[str] = []

    def record(frame, event, arg):
        if event == "call":
            calls.append(f"{frame.f_code.co_filename}:{frame.f_code.co_qualname}")

    sys.setprofile(record)
    try:
        response = client.get("/browse/?kind=video")
    finally:
        sys.setprofile(None)
    assert response.status_code == 200
    assert any(call.endswith("pagecache.py:AnonymousPageCacheMiddleware.__call__") for call in calls)
    assert not [call for call in calls if call.endswith(("URLResolver.resolve", "URLPattern.resolve"))]
    assert not [call for call in calls if call.endswith("HttpHeaders.__init__")]
