"""Do upload bytes bypass Django, and what does a CDN hit cost next to a direct S3 GET?

One run, against the real servers of bin/stack (PostgreSQL, Redis, S3, nginx):
  1. bytes Django receives per upload and per uploaded MiB, for files of 1, 8 and 40 MiB (one
     presigned POST each) and 100 MiB (multipart, presigned part URLs): the browser's whole flow,
     with the portal's API called in this process through Django's test client (which counts every
     request body) and the file sent to S3 with requests, as a browser would;
  2. time to first byte of a CDN cache hit (nginx) divided by that of a direct S3 GET of the same
     public object: the median of alternating requests on keep-alive connections.

`.venv/bin/python bench/uploads.py`; bench/README.md says what each figure means.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from common import database_recreate, django_setup, machine

BENCH_DB = "portal_bench_uploads"
BENCH_BUCKET = "portal-bench-uploads"  # originals of this benchmark only; emptied at the end
django_setup(
    BENCH_DB,
    DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1",  # the test client's host name
    CACHE_URL=os.environ.get("BENCH_UPLOADS_CACHE_URL", "redis://127.0.0.1:16379/3"),
    CACHE_KEY_PREFIX="bench-uploads", S3_PRIVATE_BUCKET=BENCH_BUCKET,
)

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402

from portal.accounts.models import User  # noqa: E402
from portal.accounts.services import user_make_editor  # noqa: E402
from portal.integrations import cdn, s3  # noqa: E402

MIB = 1024 * 1024
GOAL_BYTES_PER_UPLOAD = 1024
TIMEOUT = 120


class CountingClient(Client):
    """Django's test client, counting the request bodies the portal receives and what it answers."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = self.received = self.sent_back = self.largest = 0

    def request(self, **request: Any) -> HttpResponse:
        body = int(request.get("CONTENT_LENGTH") or 0)
        self.requests += 1
        self.received += body
        self.largest = max(self.largest, body)
        response: HttpResponse = super().request(**request)
        self.sent_back += len(response.content)
        return response


@dataclass(frozen=True)
class UploadResult:
    mib: int
    method: str
    parts: int
    requests: int
    received: int
    largest: int
    sent_back: int
    seconds: float
    status: str


# --- set-up ------------------------------------------------------------------------------------


def editor_client() -> CountingClient:
    user = User.objects.create_user(username="bench-editor", password=uuid.uuid4().hex)
    user_make_editor(user=user)
    client = CountingClient()
    client.force_login(user)
    return client


def sample_bytes(size: int) -> bytes:
    """A real MP4 (ffmpeg) padded with random bytes: finalize sniffs it as a video and accepts it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sample.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "1",
                        "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
        head = path.read_bytes()
    return head + os.urandom(size - len(head))


def bucket_empty(bucket: str) -> None:
    for upload in list(s3.multipart_list(bucket=bucket, prefix="")):
        s3.multipart_abort(bucket=bucket, key=upload.key, upload_id=upload.upload_id)
    s3.delete_prefix(bucket=bucket, prefix="")


# --- 1. bytes through Django per upload --------------------------------------------------------


def upload(client: CountingClient, http: requests.Session, body: bytes) -> UploadResult:
    """The browser's flow: start → file to S3 (POST, or PUT per part) → finalize."""
    client.requests = client.received = client.sent_back = client.largest = 0
    started = time.monotonic()
    ticket = client.post("/studio/uploads/", {"filename": f"bench {len(body) // MIB} MiB.mp4", "size": len(body),
                                              "type": "video/mp4"}, content_type="application/json").json()
    if ticket["method"] == "POST":
        answer = http.post(ticket["url"], data=ticket["fields"], files={"file": ("bench.mp4", body)}, timeout=TIMEOUT)
        answer.raise_for_status()
    else:
        size, count = ticket["partSize"], ticket["parts"]
        parts = f"/studio/uploads/{ticket['session']}/parts/"
        urls = client.post(parts, {"numbers": list(range(1, count + 1))}, content_type="application/json").json()
        for number, url in urls["urls"].items():
            offset = (int(number) - 1) * size
            http.put(url, data=body[offset:offset + size], timeout=TIMEOUT).raise_for_status()
    done = client.post(f"/studio/uploads/{ticket['session']}/finalize/").json()
    return UploadResult(mib=len(body) // MIB, method=ticket["method"], parts=ticket["parts"],
                        requests=client.requests, received=client.received, largest=client.largest,
                        sent_back=client.sent_back, seconds=time.monotonic() - started,
                        status=done.get("error") or done["status"])


def print_uploads(results: list[UploadResult]) -> None:
    print("\n1. Bytes Django receives per upload (request bodies of start, part URLs, finalize)")
    print(f"   {'file':>8}  {'method':<9} {'parts':>5} {'requests':>8} {'received':>9} {'per MiB':>8} "
          f"{'largest':>8} {'answered':>9} {'seconds':>7}  outcome")
    for r in results:
        print(f"   {r.mib:>4} MiB  {r.method:<9} {r.parts:>5} {r.requests:>8} {r.received:>7} B "
              f"{r.received / r.mib:>6.1f} B {r.largest:>6} B {r.sent_back:>7} B {r.seconds:>7.2f}  {r.status}")
    worst = max(r.received for r in results)
    verdict = "meets" if worst < GOAL_BYTES_PER_UPLOAD else "MISSES"
    print(f"   largest total per upload: {worst} B; {verdict} the goal of < {GOAL_BYTES_PER_UPLOAD} B per upload, "
          f"whatever the file's size")


# --- 2. CDN hit vs direct S3 GET ---------------------------------------------------------------


def first_byte(conn: http.client.HTTPConnection, path: str) -> tuple[float, str]:
    """Seconds from sending the request to the status line and headers; the body is read untimed."""
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    elapsed = time.perf_counter() - started
    response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}")
    return elapsed, response.getheader("X-Cache-Status") or ""


def ttfb(*, requests_each: int, size: int) -> None:
    key = f"bench/{uuid.uuid4().hex}/object.bin"
    s3.put(bucket=settings.S3_PUBLIC_BUCKET, key=key, body=os.urandom(size), content_type="application/octet-stream")
    cdn_url, s3_url = urlsplit(cdn.url(key)), urlsplit(f"{settings.S3_ENDPOINT_URL}/{settings.S3_PUBLIC_BUCKET}/{key}")
    via_cdn = http.client.HTTPConnection(cdn_url.netloc, timeout=10)
    direct = http.client.HTTPConnection(s3_url.netloc, timeout=10)
    try:
        first_byte(via_cdn, cdn_url.path)  # the miss that fills the cache
        first_byte(direct, s3_url.path)
        cdn_times, s3_times, misses = [], [], 0
        for i in range(requests_each):  # alternate which goes first, so drift hits both alike
            pair = [(via_cdn, cdn_url.path, cdn_times), (direct, s3_url.path, s3_times)]
            for conn, path, times in pair if i % 2 == 0 else pair[::-1]:
                seconds, cache = first_byte(conn, path)
                times.append(seconds)
                misses += conn is via_cdn and cache != "HIT"
    finally:
        via_cdn.close()
        direct.close()
        s3.delete(bucket=settings.S3_PUBLIC_BUCKET, key=key)
        cdn.purge(key)
    print(f"\n2. Time to first byte of one {size // 1024} KiB public object, {requests_each} requests each, "
          f"alternating, keep-alive")
    print(f"   {'source':<22} {'median':>9} {'p10':>9} {'p90':>9}")
    for label, times in (("CDN hit (nginx)", cdn_times), ("S3 direct (versitygw)", s3_times)):
        deciles = statistics.quantiles(times, n=10)
        print(f"   {label:<22} {statistics.median(times) * 1000:>6.3f} ms {deciles[0] * 1000:>6.3f} ms "
              f"{deciles[-1] * 1000:>6.3f} ms")
    ratio = statistics.median(cdn_times) / statistics.median(s3_times)
    print(f"   ratio CDN hit / S3 direct (medians) = {ratio:.2f}; CDN answers that were not a HIT: {misses}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,8,40,100", help="file sizes in MiB (default 1,8,40,100)")
    parser.add_argument("--requests", type=int, default=200, help="TTFB requests per source (default 200)")
    parser.add_argument("--object-kib", type=int, default=256, help="size of the TTFB object (default 256 KiB)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.monotonic()
    print(f"Uploads and CDN benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"servers: S3 {settings.S3_ENDPOINT_URL} (originals in {BENCH_BUCKET}), CDN {settings.CDN_BASE_URL}; "
          f"multipart from {settings.UPLOAD_MULTIPART_THRESHOLD_MB} MiB in {settings.UPLOAD_PART_SIZE_MB} MiB parts; "
          f"database {BENCH_DB}")
    database_recreate(BENCH_DB)
    s3.bucket_ensure(bucket=BENCH_BUCKET, public_read=False, cors_origins=[])
    client, data = editor_client(), sample_bytes(max(sizes) * MIB)
    try:
        with requests.Session() as http:
            print_uploads([upload(client, http, data[: mib * MIB]) for mib in sizes])
        ttfb(requests_each=args.requests, size=args.object_kib * 1024)
    finally:
        bucket_empty(BENCH_BUCKET)
        connection.close()
    print(f"\ndone in {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
