"""Publication off the request path: the request records the intent and queues `media.publish`;
the task copies or removes (per-asset lock, idempotent, last intent wins) and the studio shows how
far it has got; the reconciler removes what a failed takedown left behind."""

from __future__ import annotations

import psycopg
import pytest
import requests
from django.db import connection

from portal.integrations import cdn, s3
from portal.library.models import Asset, Status, Visibility
from portal.library.services import asset_set_published
from portal.media import publication
from portal.media.models import Publication, PublicationState
from portal.media.publication import PublicationBusy, publication_reconcile, publication_run
from portal.media.services import public_prefix
from tests.media.conftest import publications_waiting

pytestmark = pytest.mark.django_db
RENDITIONS = ["poster.jpg", "hls/master.m3u8", "hls/v0/seg0.ts", "hls/v0/seg1.ts", "hls/v0/seg2.ts"]


@pytest.fixture
def with_renditions(settings, asset_with_file):
    """A ready video with real rendition objects in the private bucket, as processing leaves them."""

    def make(**fields) -> Asset:
        asset = asset_with_file(**fields)
        prefix = f"renditions/{asset.pk}/1/"
        for relative in RENDITIONS:
            s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=prefix + relative, body=relative.encode(),
                   content_type="application/octet-stream")
        Asset.objects.filter(pk=asset.pk).update(renditions_prefix=prefix, renditions=RENDITIONS)
        asset.refresh_from_db()
        return asset

    return make


def public_objects(settings, asset_id: int) -> list[str]:
    return sorted(info.key for info in s3.list_objects(bucket=settings.S3_PUBLIC_BUCKET,
                                                       prefix=public_prefix(asset_id)))


def publish(client, asset: Asset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(f"/studio/assets/{asset.pk}/publish/")


def test_the_publish_request_only_records_the_intent_and_queues_the_task(
        settings, client_as, editor, with_renditions, purge_queue, django_capture_on_commit_callbacks):
    asset = with_renditions()
    response = publish(client_as(editor), asset, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.status, asset.public_key) == (Status.PUBLISHED, "")
    assert public_objects(settings, asset.pk) == []  # no S3 call in the request
    assert Publication.objects.get(asset=asset).state == PublicationState.PENDING
    assert publications_waiting(purge_queue) == [asset.pk]


def test_the_studio_shows_publishing_progress_then_up_to_date_with_and_without_js(
        settings, client_as, editor, with_renditions, django_capture_on_commit_callbacks, run_publications):
    asset = with_renditions()
    studio = client_as(editor)
    publish(studio, asset, django_capture_on_commit_callbacks)
    page = studio.get(f"/studio/assets/{asset.pk}/edit/").content.decode()
    assert "Publishing… waiting for a worker." in page  # a reload shows the state without JavaScript
    panel = studio.get(f"/studio/assets/{asset.pk}/publication/").content.decode()
    assert 'hx-trigger="every 1s"' in panel  # htmx polls the panel while the task works

    assert run_publications() == [asset.pk]
    done = Publication.objects.get(asset=asset)
    assert (done.state, done.done, done.total) == (PublicationState.DONE, 1 + len(RENDITIONS), 1 + len(RENDITIONS))
    panel = studio.get(f"/studio/assets/{asset.pk}/publication/").content.decode()
    assert "Public copy up to date" in panel
    assert "hx-trigger" not in panel  # polling stops
    assert client_as(editor).get(f"/studio/assets/{asset.pk}/publication/").status_code == 200


def test_the_publication_panel_is_for_editors_only(client_as, visitor, with_renditions):
    asset = with_renditions()
    assert client_as(visitor).get(f"/studio/assets/{asset.pk}/publication/").status_code == 403


def test_a_publish_still_copying_never_sets_public_key_after_an_unpublish(
        settings, editor, with_renditions, monkeypatch):
    """The editor unpublishes while the task copies (here: after its third copy, on the same
    connection): the task rechecks under the row lock, does not switch, and removes its copy."""
    asset = with_renditions()
    asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    real_copy, copies = s3.copy, []

    def copy_then_editor_unpublishes(**kwargs):
        real_copy(**kwargs)  # the real S3 copy
        copies.append(kwargs["key"])
        if len(copies) == 3:
            asset_set_published(asset_id=asset.pk, editor=editor, published=False)

    monkeypatch.setattr(s3, "copy", copy_then_editor_unpublishes)
    publication_run(asset_id=asset.pk)
    asset.refresh_from_db()
    assert len(copies) == 1 + len(RENDITIONS)  # the copy had finished when the recheck refused it
    assert (asset.status, asset.public_key) == (Status.READY, "")
    assert public_objects(settings, asset.pk) == []


def test_a_second_task_on_the_same_asset_waits_for_the_first(editor, with_renditions):
    """Another worker's task holds the asset's lock (its own database session): this one is refused,
    and Celery retries it later."""
    asset = with_renditions()
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s)", [publication.LOCK_NAMESPACE | asset.pk])
        with pytest.raises(PublicationBusy):
            publication_run(asset_id=asset.pk)
        other_worker.execute("SELECT pg_advisory_unlock(%s)", [publication.LOCK_NAMESPACE | asset.pk])
    publication_run(asset_id=asset.pk)  # once free, it runs
    assert Publication.objects.get(asset=asset).state == PublicationState.DONE


def test_a_retry_goes_on_in_the_same_folder_and_ends_with_one_copy(
        settings, editor, with_renditions, monkeypatch):
    asset = with_renditions()
    asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    real_copy, copies = s3.copy, []

    def copy_until_the_third(**kwargs):
        if len(copies) == 2:
            raise s3.StorageUnavailable("connection reset")  # as S3 going away mid-publish
        real_copy(**kwargs)
        copies.append(kwargs["key"])

    monkeypatch.setattr(s3, "copy", copy_until_the_third)
    with pytest.raises(s3.StorageUnavailable):
        publication_run(asset_id=asset.pk)
    waiting = Publication.objects.get(asset=asset)
    assert (waiting.state, waiting.error) == (PublicationState.RETRYING, "connection reset")
    monkeypatch.setattr(s3, "copy", real_copy)
    publication_run(asset_id=asset.pk)  # the task's retry
    asset.refresh_from_db()
    folder = asset.public_key.rsplit("/", 1)[0] + "/"
    assert all(key.startswith(folder) for key in copies)
    assert len(public_objects(settings, asset.pk)) == 1 + len(RENDITIONS)
    assert requests.get(cdn.url(asset.public_key), timeout=10).status_code == 200


def test_new_renditions_are_published_under_a_new_token_and_the_old_copy_removed(
        settings, editor, with_renditions, django_capture_on_commit_callbacks, run_publications):
    asset = with_renditions()
    with django_capture_on_commit_callbacks(execute=True):
        asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    run_publications()
    asset.refresh_from_db()
    old = asset.public_key
    prefix = f"renditions/{asset.pk}/2/"  # a second processing run's outputs
    for relative in RENDITIONS:
        s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=prefix + relative, body=b"v2", content_type="text/plain")
    Asset.objects.filter(pk=asset.pk).update(renditions_prefix=prefix)
    publication_run(asset_id=asset.pk)
    asset.refresh_from_db()
    assert asset.public_key != old
    assert [key for key in public_objects(settings, asset.pk) if key.startswith(old.rsplit("/", 1)[0])] == []
    assert len(public_objects(settings, asset.pk)) == 1 + len(RENDITIONS)


def test_deletes_go_in_batches_of_at_most_a_thousand(settings):
    folder = f"{settings.MEDIA_PUBLIC_PREFIX}batch-test/"
    keys = [f"{folder}{i:04d}" for i in range(1001)]
    for key in keys:
        s3.put(bucket=settings.S3_PUBLIC_BUCKET, key=key, body=b"", content_type="text/plain")
    batches: list[int] = []
    s3.delete_many(bucket=settings.S3_PUBLIC_BUCKET, keys=keys, done=batches.append)
    assert batches == [1000, 1]
    assert not list(s3.list_objects(bucket=settings.S3_PUBLIC_BUCKET, prefix=folder))


def test_a_takedown_with_s3_down_is_retried_and_the_reconciler_removes_the_copy_once_s3_is_back(
        settings, client_as, editor, with_renditions, stopped, django_capture_on_commit_callbacks,
        run_publications):
    asset = with_renditions(visibility=Visibility.PUBLIC)
    publish(client_as(editor), asset, django_capture_on_commit_callbacks)
    run_publications()
    asset.refresh_from_db()
    url = cdn.url(asset.public_key)
    assert requests.get(url, timeout=10).status_code == 200
    with stopped("s3"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_as(editor).post(f"/studio/assets/{asset.pk}/unpublish/")
        assert response.status_code == 302  # the editor's takedown is recorded whatever S3 does
        with pytest.raises(s3.StorageError):
            run_publications()  # the task fails and is left for Celery to retry
        assert Publication.objects.get(asset=asset).state == PublicationState.RETRYING
    asset.refresh_from_db()
    assert (asset.status, asset.public_key) == (Status.READY, "")  # pages stopped linking at once
    assert public_objects(settings, asset.pk) != []  # but the copy is still there
    report = publication_reconcile()  # what Celery beat runs every MEDIA_RECONCILE_SECONDS
    assert report["removed"] >= 1
    assert public_objects(settings, asset.pk) == []
    assert Publication.objects.get(asset=asset).state == PublicationState.DONE


def test_the_reconciler_removes_the_public_objects_of_deleted_and_private_assets_only(
        settings, editor, with_renditions, django_capture_on_commit_callbacks, run_publications):
    keep, hide = with_renditions(), with_renditions()
    for asset in (keep, hide):
        with django_capture_on_commit_callbacks(execute=True):
            asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    run_publications()
    # Left behind by a lost task: a private asset's copy and a deleted asset's.
    Asset.objects.filter(pk=hide.pk).update(visibility=Visibility.PRIVATE)
    ghost = f"{public_prefix(hide.pk + 1)}token/original.mp4"
    s3.put(bucket=settings.S3_PUBLIC_BUCKET, key=ghost, body=b"x", content_type="video/mp4")
    publication_reconcile()
    assert len(public_objects(settings, keep.pk)) == 1 + len(RENDITIONS)
    assert public_objects(settings, hide.pk) == []
    assert public_objects(settings, hide.pk + 1) == []
