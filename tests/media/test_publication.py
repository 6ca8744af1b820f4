"""Published public media is copied to the public bucket and served by the CDN (nginx); going
private, unpublished or deleted removes the copy and queues its CDN purge for a worker
(`media.purge_cdn`, rate-limited). Both are done by the `media.publish` task, never in the
editor's request; here the tests run the queued tasks themselves, as a worker would."""

from __future__ import annotations

import socket

import pytest
import requests

from portal.integrations import cdn, s3
from portal.library.models import Asset, Status, Visibility
from portal.library.services import asset_set_published
from portal.media.models import Publication, PublicationState
from portal.media.publication import publication_run
from portal.media.services import media_url, public_prefix
from tests.media.conftest import purges_waiting

pytestmark = pytest.mark.django_db
TIMEOUT = 10


def closed_port() -> int:
    with socket.socket() as sock:  # free a moment ago, and nothing listens there: connections are refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cdn_get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=TIMEOUT)


@pytest.fixture
def published(asset_with_file, editor, django_capture_on_commit_callbacks, run_publications):
    """A public video, published through the library service; its queued publication task run."""
    asset = asset_with_file(status=Status.READY)
    with django_capture_on_commit_callbacks(execute=True):
        asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    assert run_publications() == [asset.pk]
    asset.refresh_from_db()
    return asset


def public_copy(settings, asset: Asset) -> s3.ObjectInfo | None:
    return s3.head(bucket=settings.S3_PUBLIC_BUCKET, key=asset.public_key) if asset.public_key else None


def edit_form(asset: Asset, **changes: str) -> dict[str, object]:
    return {"title": asset.title, "kind": asset.kind, "description": "", "visibility": asset.visibility,
            "tags": "", "version": asset.version, **({"offer_original": "on"} if asset.offer_original else {}),
            **changes}


def test_publishing_puts_a_copy_in_the_public_bucket_under_an_unguessable_key(settings, published, video):
    info = public_copy(settings, published)
    assert published.public_key.startswith(public_prefix(published.pk))
    assert published.public_key.endswith("/original.mp4")
    assert len(published.public_key.split("/")[2]) >= 16
    assert info is not None
    assert info.size == len(video)
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=published.source_key) is not None


def test_the_detail_page_plays_from_the_cdn(client, published):
    html = client.get(published.get_absolute_url()).content.decode()
    assert f'src="{cdn.url(published.public_key)}"' in html
    assert media_url(asset=published) == cdn.url(published.public_key)


def test_the_cdn_serves_the_bytes_and_caches_them(published, video):
    first, second = cdn_get(cdn.url(published.public_key)), cdn_get(cdn.url(published.public_key))
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content == video
    assert (first.headers["X-Cache-Status"], second.headers["X-Cache-Status"]) == ("MISS", "HIT")


def test_the_cdn_answers_range_requests_for_seeking(published, video):
    cdn_get(cdn.url(published.public_key))
    response = cdn_get(cdn.url(published.public_key), Range="bytes=1000-1999")
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 1000-1999/{len(video)}"
    assert response.content == video[1000:2000]


def test_the_cdn_never_reaches_the_private_bucket(settings, published):
    assert cdn_get(f"{settings.CDN_BASE_URL}/{published.source_key}").status_code in (403, 404)
    assert cdn_get(f"{settings.CDN_BASE_URL}/../{settings.S3_PRIVATE_BUCKET}/{published.source_key}"
                   ).status_code in (400, 403, 404)


def test_making_it_private_in_the_studio_removes_the_copy_and_the_cdn_stops_serving_it(
        settings, client_as, editor, published, django_capture_on_commit_callbacks, run_purges, run_publications):
    url = cdn.url(published.public_key)
    cdn_get(url)
    assert cdn_get(url).headers["X-Cache-Status"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(editor).post(f"/studio/assets/{published.pk}/edit/",
                                          edit_form(published, visibility=Visibility.PRIVATE))
    assert response.status_code == 302
    old = published.public_key
    assert run_publications() == [published.pk]
    published.refresh_from_db()
    assert published.public_key == ""
    assert s3.head(bucket=settings.S3_PUBLIC_BUCKET, key=old) is None
    assert run_purges() == [old]
    assert cdn_get(url).status_code in (403, 404)


def test_unpublishing_removes_the_copy_and_the_cdn_stops_serving_it(
        settings, client_as, editor, published, django_capture_on_commit_callbacks, run_purges, run_publications):
    url, old = cdn.url(published.public_key), published.public_key
    cdn_get(url)
    with django_capture_on_commit_callbacks(execute=True):
        client_as(editor).post(f"/studio/assets/{published.pk}/unpublish/")
    assert run_publications() == [published.pk]
    published.refresh_from_db()
    assert (published.status, published.public_key) == (Status.READY, "")
    assert s3.head(bucket=settings.S3_PUBLIC_BUCKET, key=old) is None
    assert run_purges() == [old]
    assert cdn_get(url).status_code in (403, 404)


def test_deleting_removes_the_copy_the_original_and_the_cdn_entry(
        settings, client_as, editor, published, django_capture_on_commit_callbacks, run_purges, run_publications):
    url, public_key, source_key = cdn.url(published.public_key), published.public_key, published.source_key
    cdn_get(url)
    with django_capture_on_commit_callbacks(execute=True):
        client_as(editor).post(f"/studio/assets/{published.pk}/delete/")
    assert not Asset.objects.filter(pk=published.pk).exists()
    assert run_publications() == [published.pk]
    assert s3.head(bucket=settings.S3_PUBLIC_BUCKET, key=public_key) is None
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=source_key) is None
    assert run_purges() == [public_key]
    assert cdn_get(url).status_code in (403, 404)


def test_the_purge_is_queued_for_a_worker_and_the_editor_does_not_wait_on_the_cdn(
        client_as, editor, published, django_capture_on_commit_callbacks, purge_queue, run_purges, run_publications):
    url = cdn.url(published.public_key)
    cdn_get(url)
    with django_capture_on_commit_callbacks(execute=True):
        client_as(editor).post(f"/studio/assets/{published.pk}/unpublish/")
    run_publications()
    assert purges_waiting(purge_queue) == 1
    assert cdn_get(url).headers["X-Cache-Status"] == "HIT", "purged by the worker (rate-limited), not inline"
    run_purges()
    assert cdn_get(url).status_code in (403, 404)


def test_with_the_broker_down_the_request_succeeds_the_intent_waits_and_the_purge_is_done_inline(
        settings, client_as, editor, published, django_capture_on_commit_callbacks, purge_queue):
    url = cdn.url(published.public_key)
    cdn_get(url)
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/4"  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(editor).post(f"/studio/assets/{published.pk}/unpublish/")
    assert response.status_code == 302
    assert Publication.objects.get(asset=published).state == PublicationState.PENDING  # the reconciler resends it
    publication_run(asset_id=published.pk)  # as the reconciler's resend runs it, broker still down
    assert cdn_get(url).status_code in (403, 404)


def test_publishing_a_private_asset_makes_no_public_copy(settings, asset_with_file, editor,
                                                         django_capture_on_commit_callbacks, run_publications):
    asset = asset_with_file(visibility=Visibility.PRIVATE)
    with django_capture_on_commit_callbacks(execute=True):
        asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    assert run_publications() == []  # nothing to do, nothing queued
    asset.refresh_from_db()
    assert asset.public_key == ""
    assert not list(s3.list_objects(bucket=settings.S3_PUBLIC_BUCKET, prefix=public_prefix(asset.pk)))


def test_an_unlisted_asset_is_served_by_the_cdn_too(asset_with_file, editor, video,
                                                   django_capture_on_commit_callbacks, run_publications):
    asset = asset_with_file(visibility=Visibility.UNLISTED)
    with django_capture_on_commit_callbacks(execute=True):
        asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    run_publications()
    asset.refresh_from_db()
    assert cdn_get(cdn.url(asset.public_key)).content == video


def test_going_public_again_makes_a_new_key_so_old_links_stay_dead(
        settings, client_as, editor, published, django_capture_on_commit_callbacks, run_publications):
    old_url = cdn.url(published.public_key)
    studio = client_as(editor)
    with django_capture_on_commit_callbacks(execute=True):
        studio.post(f"/studio/assets/{published.pk}/edit/", edit_form(published, visibility=Visibility.PRIVATE))
    run_publications()
    published.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        studio.post(f"/studio/assets/{published.pk}/edit/", edit_form(published, visibility=Visibility.PUBLIC))
    run_publications()
    published.refresh_from_db()
    assert published.public_key
    assert cdn.url(published.public_key) != old_url
    assert cdn_get(cdn.url(published.public_key)).status_code == 200
    assert cdn_get(old_url).status_code in (403, 404)
