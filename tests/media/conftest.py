"""Media tests: originals in this run's private bucket, public copies in the CDN's public bucket."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from portal.core.tasks import TaskName
from portal.integrations import s3
from portal.library.models import Asset, Kind, Status, Visibility
from portal.media.publication import publication_run
from portal.media.services import PURGE_QUEUE, PURGE_TASK
from tests.factories import AssetFactory
from tests.storage import MIB, _isolated_storage, media_files, padded, test_bucket  # noqa: F401
from workers.tasks.media import purge_cdn

FileAsset = Callable[..., Asset]


@pytest.fixture
def video(media_files) -> bytes:
    """A real MP4 padded to 1 MiB: big enough for Range requests to mean something."""
    return padded(media_files["mp4"], MIB)


@pytest.fixture
def asset_with_file(settings: Any, video: bytes) -> Iterator[FileAsset]:
    """An asset whose original is really in the private bucket (as a finalized upload leaves it).
    Offered to visitors by default: these tests are about the copy; test_metadata.py about the choice.
    Its originals and renditions are removed afterwards: the bucket is the session's, and the upload
    cleanup tests expect it empty."""
    made: list[int] = []

    def make(*, status: str = Status.READY, visibility: str = Visibility.PUBLIC, body: bytes = video,
             filename: str = "film.mp4", offer_original: bool = True, **fields: Any) -> Asset:
        asset: Asset = AssetFactory(kind=Kind.VIDEO, status=status, visibility=visibility,
                                    offer_original=offer_original, **fields)
        key = f"originals/{asset.pk}/{uuid.uuid4().hex}"
        s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=body, content_type="video/mp4")
        Asset.objects.filter(pk=asset.pk).update(source_key=key, source_size=len(body), source_type="video/mp4",
                                                 original_filename=filename)
        asset.refresh_from_db()
        made.append(asset.pk)
        return asset

    yield make
    for pk in made:
        for prefix in (f"originals/{pk}/", f"renditions/{pk}/"):
            s3.delete_prefix(bucket=settings.S3_PRIVATE_BUCKET, prefix=prefix)


@pytest.fixture(autouse=True)
def purge_queue(settings: Any) -> Iterator[redis.Redis]:
    """The real broker's queue that CDN purges go to (the tests' own Redis database, see
    CELERY_BROKER_URL under DJANGO_ENV=test); no worker consumes it during these tests."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(PURGE_QUEUE)
    yield client
    client.delete(PURGE_QUEUE)
    client.close()


def purges_waiting(queue: redis.Redis) -> int:
    """How many `media.purge_cdn` tasks wait in the (shared) interactive queue."""
    return sum(json.loads(raw)["headers"]["task"] == PURGE_TASK for raw in queue.lrange(PURGE_QUEUE, 0, -1))


@pytest.fixture
def run_purges(purge_queue: redis.Redis) -> Callable[[], list[str]]:
    """Take the queued `media.purge_cdn` tasks off the queue and run them here, as a worker would;
    returns their keys in the order they were queued."""

    def run() -> list[str]:
        keys = []
        while (raw := purge_queue.rpop(PURGE_QUEUE)) is not None:  # kombu LPUSHes and BRPOPs
            message = json.loads(raw)
            if message["headers"]["task"] != PURGE_TASK:  # the queue is shared (search indexing): not ours
                continue
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            purge_cdn(*args)
            keys.extend(args)
        return keys

    return run


PUBLISH_TASK = str(TaskName.MEDIA_PUBLISH)


def publications_waiting(queue: redis.Redis) -> list[int]:
    """The asset ids of the `media.publish` tasks waiting in the interactive queue, oldest first."""
    return [json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0]
            for raw in reversed(queue.lrange(PURGE_QUEUE, 0, -1)) if json.loads(raw)["headers"]["task"] == PUBLISH_TASK]


@pytest.fixture
def run_publications(purge_queue: redis.Redis) -> Callable[[], list[int]]:
    """Take the queued `media.publish` tasks off the queue, oldest first, and run them here as a
    worker would (other tasks stay queued); returns their asset ids."""

    def run() -> list[int]:
        ids = []
        while True:
            found = next((raw for raw in reversed(purge_queue.lrange(PURGE_QUEUE, 0, -1))
                          if json.loads(raw)["headers"]["task"] == PUBLISH_TASK), None)
            if found is None:
                return ids
            purge_queue.lrem(PURGE_QUEUE, 1, found)
            asset_id = json.loads(base64.b64decode(json.loads(found)["body"]))[0][0]
            publication_run(asset_id=asset_id)
            ids.append(asset_id)

    return run
