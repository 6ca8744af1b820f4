"""Processing throughput with one worker host and with two, side by side in one run.

The hosts are the stack's own (`SCALE=2 bin/stack up worker-a worker-b`: one `celery worker` each on
interactive, media and bulk, concurrency 1, its own temp dir), run from a var/ directory of this
bench's own against a database, broker and progress database, bucket and search prefix of its own.
Each round queues the same batch of real processing jobs (short H.264 clips through the whole
pipeline: probe, poster, storyboard, HLS, upload to S3, record) and times from the first job queued
to the last one finished; rounds alternate one host / two hosts so both see the same machine load.
Prints jobs/minute for each, the ratio two/one, and the CPU the machine spent (from /proc/stat):
on a 2-core machine one host's ffmpeg already keeps most of both cores busy, so a second host can
only fill what the first leaves idle (downloads, uploads, the database, process start-up); it
cannot double CPU-bound work. Needs postgres, redis, s3 (and opensearch for the index tasks the
jobs trigger). Never fails on a number.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, database_recreate, django_setup, machine

DATABASE = "portal_bench_workers"
BROKER = "redis://127.0.0.1:16379/34"  # the bench's own Redis databases (34-35, cache 31): no developer's worker
PROGRESS = "redis://127.0.0.1:16379/35"
BUCKET = "portal-bench-workers"
HOSTS = ("worker-a", "worker-b")


def cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def hosts_cpu_seconds(var: Path, hosts: tuple[str, ...]) -> float:
    """CPU time of the hosts' processes so far: each worker's process group (its pool children, and
    through them the ffmpeg runs they waited for)."""
    groups = {int((var / "run" / f"{name}.pid").read_text()) for name in hosts}
    ticks = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in groups:  # pgid
                ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=16, help="jobs per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per configuration (alternating)")
    parser.add_argument("--seconds", type=float, default=2, help="length of each clip")
    args = parser.parse_args()
    django_setup(DATABASE, CELERY_BROKER_URL=BROKER, CELERY_RESULT_BACKEND=BROKER, PROGRESS_REDIS_URL=PROGRESS,
                 S3_PRIVATE_BUCKET=BUCKET, SEARCH_INDEX_PREFIX="bench_workers", CACHE_URL="redis://127.0.0.1:16379/31")
    database_recreate(DATABASE)

    import redis  # noqa: PLC0415 - Django first
    from django.core.management import call_command  # noqa: PLC0415

    from portal.accounts.models import User  # noqa: PLC0415
    from portal.integrations import s3  # noqa: PLC0415
    from portal.jobs.models import Job, JobStatus  # noqa: PLC0415
    from portal.jobs.services import job_create  # noqa: PLC0415
    from portal.library.models import Asset, Kind, Status  # noqa: PLC0415
    from portal.processing.samples import make_video  # noqa: PLC0415

    s3.bucket_ensure(bucket=BUCKET, public_read=False, cors_origins=[])
    owner = User.objects.create_user(username="bench-owner", password=uuid.uuid4().hex)
    call_command("search_setup", verbosity=0)
    for url in (BROKER, PROGRESS):
        redis.Redis.from_url(url).flushdb()
    var = Path(tempfile.mkdtemp(prefix="bench-workers-", dir=ROOT / "var"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("STACK_")}
    env.update(SCALE="2", STACK_VAR_DIR=str(var), STACK_BUILD_DIR=str(ROOT / "var"), STACK_WORKER_CONCURRENCY="1")

    def stack(*argv: str) -> None:
        subprocess.run([str(ROOT / "bin" / "stack"), *argv], env=env, check=True, capture_output=True, text=True)

    clip = make_video(var / "clip.mp4", seconds=args.seconds, size="320x240").read_bytes()

    def queue_assets(count: int) -> list[int]:
        assets = []
        for _ in range(count):
            asset = Asset.objects.create(kind=Kind.VIDEO, title="bench", slug=f"bench-{uuid.uuid4().hex[:12]}",
                                         owner=owner, status=Status.PROCESSING)
            key = f"originals/{asset.pk}/clip.mp4"
            s3.put(bucket=BUCKET, key=key, body=clip, content_type="video/mp4")
            Asset.objects.filter(pk=asset.pk).update(source_key=key, source_size=len(clip), source_type="video/mp4")
            assets.append(asset.pk)
        return assets

    def queue_jobs(count: int) -> list[int]:
        return [job_create(asset_id=pk, queue="media").pk for pk in queue_assets(count)]

    def finish(ids: list[int]) -> None:
        deadline = time.monotonic() + 600
        while Job.objects.filter(pk__in=ids, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"the jobs did not finish within 10 minutes; see {var}/log/")
            time.sleep(0.1)
        failed = Job.objects.filter(pk__in=ids).exclude(status=JobStatus.SUCCEEDED).count()
        if failed:
            raise SystemExit(f"{failed} jobs did not succeed; see {var}/log/")

    def round_of(hosts: tuple[str, ...]) -> tuple[float, float, float]:
        """Queue --jobs jobs with `hosts` up; returns (jobs per minute, machine CPU busy share, the
        hosts' CPU seconds per job)."""
        stack("up", *hosts)
        finish(queue_jobs(len(hosts)))  # warm-up, untimed: each host's first task imports what it lazily needs
        assets = queue_assets(args.jobs)
        busy0, total0 = cpu_busy()
        cpu0 = hosts_cpu_seconds(var, hosts)
        started = time.monotonic()
        finish([job_create(asset_id=pk, queue="media").pk for pk in assets])
        elapsed = time.monotonic() - started
        busy1, total1 = cpu_busy()
        cpu = hosts_cpu_seconds(var, hosts) - cpu0
        stack("down", *hosts)
        return args.jobs / elapsed * 60, (busy1 - busy0) / max(total1 - total0, 1), cpu / args.jobs

    print(f"workers bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    results: dict[int, list[tuple[float, float, float]]] = {1: [], 2: []}
    try:
        for _ in range(args.rounds):
            for count in (1, 2):
                results[count].append(round_of(HOSTS[:count]))
    finally:
        subprocess.run([str(ROOT / "bin" / "stack"), "down", *HOSTS], env=env, capture_output=True, check=False)
        shutil.rmtree(var, ignore_errors=True)
    print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"{args.jobs} jobs per round ({args.seconds:g} s 320x240 H.264 clips, queue media), {args.rounds} rounds "
          "each, alternating; a host = one celery worker, concurrency 1")
    medians = {}
    for count, rows in results.items():
        rates = [rate for rate, _, _ in rows]
        medians[count] = statistics.median(rates)
        print(f"  {count} host{'s' if count > 1 else ' '}: {medians[count]:6.1f} jobs/min (median; rounds "
              f"{', '.join(f'{rate:.1f}' for rate in rates)}), machine CPU busy "
              f"{', '.join(f'{share:.0%}' for _, share, _ in rows)}, hosts' CPU per job "
              f"{', '.join(f'{per_job:.2f} s' for _, _, per_job in rows)}")
    print(f"  ratio two hosts / one host: {medians[2] / medians[1]:.2f}")
    per_job = statistics.median(per for rows in results.values() for _, _, per in rows)
    print(f"  ceiling of this machine's {os.cpu_count()} cores at {per_job:.2f} CPU s per job: "
          f"{(os.cpu_count() or 1) * 60 / per_job:.0f} jobs/min, however many hosts")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
