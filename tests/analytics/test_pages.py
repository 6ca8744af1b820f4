"""The analytics page, the play endpoint and the asset page's panels, against the real FerretDB."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from portal.analytics import selectors
from portal.analytics.models import OutboxEntry
from portal.analytics.services import event_record, outbox_ship_all
from portal.integrations import mongo
from portal.library.models import Kind, Status, Visibility
from portal.search.signals import search_performed
from tests.resets import reset_mongo_client

pytestmark = pytest.mark.django_db(transaction=True)
PLAYS = reverse("analytics:plays")


def play(client: Client, asset_id: object, event: str = "play", quartile: object = None):
    token = client.get(reverse("analytics:token")).json()["token"]
    data = {"csrfmiddlewaretoken": token, "asset": asset_id, "event": event}
    if quartile is not None:
        data["quartile"] = quartile
    return client.post(PLAYS, data)


def test_the_analytics_page_is_for_editors_only(client, client_as, editor, visitor, mongo_db):
    url = reverse("analytics:dashboard")
    assert client.get(url).status_code == 302
    assert client_as(visitor).get(url).status_code == 403
    assert client_as(editor).get(url).status_code == 200


def test_the_page_shows_plays_views_top_assets_and_searches_without_results(client_as, editor, asset_factory,
                                                                             mongo_db):
    popular, other = asset_factory(title="Popular clip"), asset_factory(title="Other clip")
    for number in range(3):  # three visitors: one visitor's reloads would be one view
        visitor = Client(enforce_csrf_checks=True, REMOTE_ADDR=f"198.51.100.{number}")
        assert visitor.get(popular.get_absolute_url()).status_code == 200
        assert play(visitor, popular.pk).status_code == 204
    visitor.get(other.get_absolute_url())
    search_performed.send(sender=None, query="  Zebra   Crossing ", result_count=0, request=None, source="results")
    search_performed.send(sender=None, query="zebra crossing", result_count=0, request=None, source="fallback")
    search_performed.send(sender=None, query="zebra", result_count=0, request=None, source="suggest")  # a keystroke
    search_performed.send(sender=None, query="clip", result_count=2, request=None, source="results")
    assert outbox_ship_all() == 10

    page = client_as(editor).get(reverse("analytics:dashboard")).content.decode()
    assert "Last 30 days: 4 views, 3 plays." in page
    assert "<title id=\"chart-title\">" in page
    assert "<desc id=\"chart-desc\">" in page
    top = page[page.index('id="top-assets"'):]
    assert top.index("Popular clip") < top.index("Other clip")
    assert "<td>3</td><td>3</td>" in top
    no_results = page[page.index('id="no-results"'):]
    assert "<td>zebra crossing</td><td>2</td>" in no_results
    assert "<td>clip</td>" not in no_results


def test_daily_roll_ups_of_finished_days_are_cached_and_today_is_recounted(mongo_db):
    today = dt.date(2026, 11, 25)
    mongo.insert_new(mongo.EVENTS, [{"_id": n, "type": "view", "day": "2026-11-24"} for n in range(4)]
                      + [{"_id": 100 + n, "type": "play", "day": "2026-11-25"} for n in range(2)])
    first = selectors.daily_counts(days=3, today=today)
    assert [(d.views, d.plays) for d in first] == [(0, 0), (4, 0), (0, 2)]
    mongo.insert_new(mongo.EVENTS, [{"_id": 50, "type": "view", "day": "2026-11-24"}])
    cache.delete(selectors._key("today", "2026-11-25"))
    again = selectors.daily_counts(days=3, today=today)
    assert again[1].views == 4  # a finished day comes from the cache, never recounted


def test_a_play_report_is_validated_and_rate_limited(asset_factory, client_as, visitor, mongo_db):
    asset = asset_factory()
    private = asset_factory(visibility=Visibility.PRIVATE)
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post(PLAYS, {"asset": asset.pk, "event": "play"}).status_code == 403  # no CSRF token
    assert play(anonymous, "x").status_code == 400
    assert play(anonymous, asset.pk, "pause").status_code == 400
    assert play(anonymous, asset.pk, "progress", 33).status_code == 400
    assert play(anonymous, private.pk).status_code == 404
    assert play(anonymous, asset.pk, "progress", 75).status_code == 204
    assert OutboxEntry.objects.count() == 1
    statuses = [play(anonymous, asset.pk).status_code for _ in range(125)]
    assert (statuses.count(204), statuses.count(429)) == (118, 7)  # 120 a minute, the 404 and first 204 included
    assert play(client_as(visitor), asset.pk).status_code == 204  # another visitor has a budget of their own


def test_the_asset_page_shows_technical_metadata_and_editors_see_figures(client, client_as, editor, asset_factory,
                                                                         mongo_db):
    asset = asset_factory(kind=Kind.IMAGE, source_key="originals/x/y")
    mongo.replace(mongo.RAW_METADATA, {"_id": f"{asset.pk}:1", "asset_id": asset.pk, "version": 1,
                                       "raw": {"image": {"format": "JPEG", "exif": {"main": {"Model": "PC-1"},
                                               "gpsinfo": {"GPSLatitudeRef": "N"}}}}, "notes": []})
    event_record(kind="download", slug=asset.slug)
    outbox_ship_all()
    page = client.get(asset.get_absolute_url()).content.decode()
    assert "Technical metadata" in page
    assert "exif.main.Model" in page
    assert "PC-1" in page
    assert "gpsinfo" not in page  # location is for editors only
    assert "Figures" not in page
    page = client_as(editor).get(asset.get_absolute_url()).content.decode()
    assert "exif.gpsinfo.GPSLatitudeRef" in page
    assert 'data-figure="downloads">1<' in page


def test_mongodb_stopped_while_visitors_browse_and_play_no_5xx_and_every_event_delivered(
        client_as, editor, asset_factory, stopped, mongo_db):
    video = asset_factory(kind=Kind.VIDEO, title="Outage clip")
    draft = asset_factory(status=Status.DRAFT, published_at=None)
    visitor = Client(enforce_csrf_checks=True)
    statuses = []
    with stopped("ferretdb"):
        for _ in range(5):
            statuses.append(visitor.get(video.get_absolute_url()).status_code)
            statuses.append(play(visitor, video.pk).status_code)
            statuses.append(play(visitor, video.pk, "progress", 25).status_code)
        statuses.append(visitor.get(reverse("library:browse")).status_code)
        editor_page = client_as(editor).get(video.get_absolute_url())
        dashboard = client_as(editor).get(reverse("analytics:dashboard"))
        statuses += [editor_page.status_code, dashboard.status_code, client_as(editor).get(
            reverse("studio:asset_edit", args=[draft.pk])).status_code]
        assert "cannot be shown right now" in editor_page.content.decode()
        assert "did not answer" in dashboard.content.decode()
        with pytest.raises(mongo.MongoUnavailable):
            outbox_ship_all()
        kept = OutboxEntry.objects.filter(stream="event").count()
    assert all(status < 500 for status in statuses), statuses
    assert kept == 1 + 5 + 5 + 1  # one view (reloads count once), plays, quartiles, and the editor's view
    reset_mongo_client()
    assert outbox_ship_all() == kept
    assert mongo.count(mongo.EVENTS, {"asset_id": video.pk}) == kept
    assert mongo.count(mongo.EVENTS, {"asset_id": video.pk, "type": "progress", "quartile": 25}) == 5
    assert OutboxEntry.objects.count() == 0
