"""Tasks that call out are paced by the worker: CDN purges at CDN_PURGE_RATE_LIMIT."""

from __future__ import annotations

import itertools
import random
import uuid

import pytest
import requests
from django.conf import settings

from portal.integrations import cdn, s3
from portal.media.publication import publication_run
from portal.media.services import public_prefix
from tests.workers.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

PURGES = 30
RATE_PER_S = 5
TIMEOUT = 10
SUCCEEDED = r"Task media\.purge_cdn\[[0-9a-f-]+\] succeeded"


def cdn_status(key: str) -> tuple[int, str]:
    response = requests.get(cdn.url(key), timeout=TIMEOUT)
    return response.status_code, response.headers.get("X-Cache-Status", "")


def test_unpublishing_queues_one_purge_per_object_and_the_worker_runs_them_at_the_configured_rate(start_worker):
    """30 cached public objects of one asset; unpublishing deletes them and queues 30 purges, which
    a worker limited to 5/s runs over ≥ 5.8 s, never faster than the limit in any stretch, and after
    which the CDN no longer serves any of them."""
    asset_id = random.randrange(10**12, 10**13)  # the shared public bucket: a prefix nobody else uses
    directory = f"{public_prefix(asset_id)}{uuid.uuid4().hex}/r/"
    keys = [f"{directory}segment{i:03d}.ts" for i in range(PURGES)]
    for key in keys:
        s3.put(bucket=settings.S3_PUBLIC_BUCKET, key=key, body=b"x" * 188, content_type="video/mp2t")
        cdn_status(key)
        assert cdn_status(key) == (200, "HIT"), "the CDN must hold a copy for the purge to matter"

    worker = start_worker("interactive", CDN_PURGE_RATE_LIMIT=f"{RATE_PER_S}/s")
    publication_run(asset_id=asset_id)  # as after deleting the asset: purges queued

    done = wait_until(lambda: len(worker.times(SUCCEEDED)) >= PURGES, timeout=120, what=f"{PURGES} purges to run",
                      explain=worker.tail)
    assert done
    times = sorted(worker.times(SUCCEEDED))
    assert len(times) == PURGES
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    span = (times[-1] - times[0]).total_seconds()
    # A token bucket of one token refilled at 5/s: consecutive runs are 0.2 s apart. Timestamps are
    # taken when each task ends, so one late end can bring the next one closer: check every stretch
    # of five gaps (1 s at the limit) with a margin, and the whole span.
    assert span >= (PURGES - 1) / RATE_PER_S * 0.9, f"30 purges in {span:.2f}s: the limit did not hold; gaps {gaps}"
    for start in range(len(gaps) - 4):
        window = sum(gaps[start:start + 5])
        assert window >= 5 / RATE_PER_S * 0.75, f"5 purges in {window:.2f}s at #{start}: faster than the limit"
    for key in keys:
        status, cache_status = cdn_status(key)
        assert status in (403, 404), f"{key} is still served ({status} {cache_status})"
