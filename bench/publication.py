"""Publication off the request path: the editor's publish request costs the same whatever the number
of renditions, and the `media.publish` task does the copying.

For each size (10 and 2,700 renditions: a 1080p hour has about 2,700 objects) it makes a ready video
whose rendition objects are really in S3 (a private bucket of the bench's own), then:
1. times the studio's publish and unpublish POSTs through Django's test client against the bench's
   own database and broker (no worker runs, so the requests only record the intent and queue the
   task): p50 and p95 over --rounds of each;
2. times `publication_run` itself, as the worker runs it: the copy of every object for a publish,
   then the DeleteObjects batches for an unpublish.
Needs postgres, redis and s3 from bin/stack. Prints figures and a ratio; never fails on a number.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from common import database_recreate, django_setup, machine, percentile

DATABASE = "portal_bench_publication"
BROKER = "redis://127.0.0.1:16379/21"  # the bench's own: no developer's worker takes these tasks
PRIVATE_BUCKET = "portal-bench-publication"
PUBLIC_PREFIX = "bench-publication/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,2700", help="rendition counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=30, help="publish/unpublish request pairs per size")
    args = parser.parse_args()
    django_setup(DATABASE, CELERY_BROKER_URL=BROKER, CELERY_RESULT_BACKEND=BROKER, CACHE_URL="redis://127.0.0.1:16379/22",
                 S3_PRIVATE_BUCKET=PRIVATE_BUCKET, MEDIA_PUBLIC_PREFIX=PUBLIC_PREFIX, DJANGO_ALLOWED_HOSTS="testserver")
    database_recreate(DATABASE)

    import redis  # noqa: PLC0415 - Django first
    from django.conf import settings  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415

    from portal.accounts.models import User  # noqa: PLC0415
    from portal.accounts.services import user_make_editor  # noqa: PLC0415
    from portal.integrations import s3  # noqa: PLC0415
    from portal.library.lifecycle import asset_transition  # noqa: PLC0415
    from portal.library.models import Asset, Kind, Status  # noqa: PLC0415
    from portal.media.publication import publication_run  # noqa: PLC0415

    print(f"publication bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    s3.bucket_ensure(bucket=PRIVATE_BUCKET, public_read=False, cors_origins=[])
    broker = redis.Redis.from_url(BROKER)
    editor = User.objects.create_user(username="bench-editor", password="x")  # noqa: S106
    user_make_editor(user=editor)
    client = Client()
    client.force_login(editor)

    rows = []
    for size in [int(n) for n in args.sizes.split(",")]:
        asset = Asset.objects.create(kind=Kind.VIDEO, title=f"bench {size}", slug=f"bench-{size}", owner=editor)
        prefix = f"renditions/{asset.pk}/1/"
        original = f"originals/{asset.pk}/original"
        s3.put(bucket=PRIVATE_BUCKET, key=original, body=b"\0" * 1024, content_type="video/mp4")
        renditions = [f"hls/v0/seg{i:05d}.ts" for i in range(size)]
        started = time.perf_counter()
        for relative in renditions:
            s3.put(bucket=PRIVATE_BUCKET, key=prefix + relative, body=b"\0" * 188, content_type="video/mp2t")
        staged = time.perf_counter() - started
        Asset.objects.filter(pk=asset.pk).update(source_key=original, source_size=1024, source_type="video/mp4",
                                                 renditions_prefix=prefix, renditions=renditions)
        for step in (Status.UPLOADING, Status.PROCESSING, Status.READY):  # as an upload and its processing go
            asset_transition(asset_id=asset.pk, to=step, actor=editor, reason="bench set-up")
        publish_ms, unpublish_ms = [], []
        for _ in range(args.rounds):
            for url, times in ((f"/studio/assets/{asset.pk}/publish/", publish_ms),
                               (f"/studio/assets/{asset.pk}/unpublish/", unpublish_ms)):
                started = time.perf_counter()
                response = client.post(url)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 302, response.status_code
            broker.flushdb()  # the queued tasks: no worker here
        client.post(f"/studio/assets/{asset.pk}/publish/")
        started = time.perf_counter()
        publication_run(asset_id=asset.pk)
        copy_s = time.perf_counter() - started
        asset.refresh_from_db()
        assert asset.public_key, "the task did not publish"
        client.post(f"/studio/assets/{asset.pk}/unpublish/")
        started = time.perf_counter()
        publication_run(asset_id=asset.pk)
        delete_s = time.perf_counter() - started
        broker.flushdb()
        s3.delete_prefix(bucket=PRIVATE_BUCKET, prefix=f"renditions/{asset.pk}/")
        s3.delete_prefix(bucket=PRIVATE_BUCKET, prefix=f"originals/{asset.pk}/")
        rows.append((size, percentile(publish_ms, 50), percentile(publish_ms, 95), percentile(unpublish_ms, 95),
                     copy_s, delete_s, staged))

    print(f"{args.rounds} publish and {args.rounds} unpublish requests per size; bucket {settings.S3_PUBLIC_BUCKET}")
    print(f"{'renditions':>10}  {'publish p50':>11}  {'publish p95':>11}  {'unpublish p95':>13}  "
          f"{'task: publish':>13}  {'task: unpublish':>15}")
    for size, p50, p95, un95, copy_s, delete_s, _staged in rows:
        print(f"{size:>10}  {p50:>8.1f} ms  {p95:>8.1f} ms  {un95:>10.1f} ms  {copy_s:>11.2f} s  {delete_s:>13.2f} s")
    if len(rows) >= 2:
        small, large = rows[0], rows[-1]
        verdict = "equal within 1.5x and under 100 ms" if large[2] <= max(small[2] * 1.5, small[2] + 5) \
            and large[2] < 100 else "NOT equal / over 100 ms"
        print(f"ratio publish p95 {large[0]}/{small[0]} renditions = {large[2] / small[2]:.2f} ({verdict}); "
              f"the task copies {large[0] + 1} objects in {large[4]:.2f} s and deletes them in {large[5]:.2f} s")


if __name__ == "__main__":
    main()
