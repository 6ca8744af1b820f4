"""Views an editor can trust: one per visitor and asset in 30 minutes, none for crawlers, HEAD
requests or prefetches (counted as the outbox rows the real PostgreSQL receives)."""

from __future__ import annotations

import pytest
from django.test import Client

from portal.analytics.models import OutboxEntry
from portal.analytics.visits import VIEW_WINDOW_SECONDS

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def views() -> int:
    return OutboxEntry.objects.filter(payload__type="view").count()


def browser(address: str = "198.51.100.1", agent: str = BROWSER) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)


def test_a_thousand_reloads_by_one_visitor_count_once(asset_factory):
    asset = asset_factory()
    visitor = browser()
    for _ in range(1000):
        assert visitor.get(asset.get_absolute_url()).status_code == 200
    assert views() == 1


def test_two_visitors_count_twice_and_each_asset_once(asset_factory, client_as, visitor):
    first, second = asset_factory(), asset_factory()
    signed_in = client_as(visitor)
    for client in (browser("198.51.100.1"), browser("198.51.100.2"), signed_in, client_as(visitor)):
        client.get(first.get_absolute_url())
        client.get(first.get_absolute_url())
    assert views() == 3  # two addresses, and one account in two browsers
    browser("198.51.100.1").get(second.get_absolute_url())
    assert views() == 4


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; YandexSpider/3.0)",
])
def test_crawlers_count_zero(asset_factory, agent):
    asset = asset_factory()
    assert browser(agent=agent).get(asset.get_absolute_url()).status_code == 200
    assert views() == 0


@pytest.mark.parametrize("headers", [{"Sec-Purpose": "prefetch"}, {"Sec-Purpose": "prefetch;prerender"},
                                     {"Purpose": "prefetch"}, {"X-Moz": "prefetch"}])
def test_prefetches_count_zero_and_the_real_visit_after_one_counts(asset_factory, headers):
    asset = asset_factory()
    visitor = browser()
    assert visitor.get(asset.get_absolute_url(), headers=headers).status_code == 200
    assert views() == 0
    visitor.get(asset.get_absolute_url())
    assert views() == 1


def test_head_counts_zero(asset_factory):
    asset = asset_factory()
    assert browser().head(asset.get_absolute_url()).status_code == 200
    assert views() == 0


def test_the_analytics_page_says_how_views_are_counted(client_as, editor, mongo_db):
    text = client_as(editor).get("/studio/analytics/").content.decode()
    assert "How views are counted" in text
    assert f"in any {VIEW_WINDOW_SECONDS // 60} minutes" in text
