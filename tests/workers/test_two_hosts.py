"""Two worker hosts sharing only PostgreSQL, Redis and S3 (`SCALE=2 bin/stack up worker-a worker-b`):
one host's worker SIGKILLed mid-job several times over a run of twenty jobs, restarted each
time, and every job still takes effect exactly once.

The hosts run from a var/ directory of this test's own, against this run's test database, broker
database, progress database and bucket, each with its own temp dir (TMPDIR, PROCESSING_WORK_DIR).
The broker redelivers a dead worker's task after the visibility timeout: a short one here, on the
test's own broker database."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from stackctl import config

from portal.jobs.models import Job, JobStatus
from portal.jobs.services import job_create
from portal.library.models import Asset, Kind, Status
from portal.processing.workdir import PREFIX
from tests.processing.media import make_audio, make_video
from tests.workers.conftest import rendition_keys, uploaded, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

HOSTS = ("worker-a", "worker-b")
VICTIM = "worker-b"
# Video and audio only: both on `media`, and neither is followed by an OCR job on the asset.
VIDEOS, SOUNDS = 14, 6
KILLS = 3
# Long enough that no job of this size outlasts it on a busy 2-core machine (a job that did would be
# handed to the other host while still running: harmless, see README's Workers, but not this test's
# subject); short enough that the killed jobs come back within the run.
VISIBILITY_TIMEOUT_S = 12
RUN_TIMEOUT_S = 300.0


@dataclass
class Hosts:
    env: dict[str, str]
    var: Path

    def cli(self, *args: str) -> None:
        result = subprocess.run([str(config.ROOT / "bin" / "stack"), *args], env=self.env, capture_output=True,
                                text=True, timeout=300, check=False)
        assert result.returncode == 0, f"bin/stack {' '.join(args)}: {result.stdout}{result.stderr}"

    def temp_dir(self, name: str) -> Path:
        return self.var / name / "tmp"

    def job_dirs(self, name: str) -> list[Path]:
        return sorted(self.temp_dir(name).glob(f"{PREFIX}*"))

    def log(self, name: str) -> str:
        return (self.var / "log" / f"{name}.log").read_text(errors="replace")

    def tails(self) -> str:
        return "\n".join(f"--- {name}\n" + "\n".join(self.log(name).splitlines()[-40:]) for name in HOSTS)

    def succeeded(self, name: str) -> int:
        return len(re.findall(r"Task processing\.run\[[0-9a-f-]+\] succeeded", self.log(name)))


@pytest.fixture
def hosts(worker_env: dict[str, str]) -> Iterator[Hosts]:
    config.VAR.mkdir(exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="workers-test-", dir=config.VAR))
    env = {key: value for key, value in worker_env.items() if not key.startswith("STACK_")}
    env.update(SCALE="2", STACK_VAR_DIR=str(var), STACK_BUILD_DIR=str(config.BUILD),
               CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT_S), STACK_WORKER_CONCURRENCY="1")
    started = Hosts(env=env, var=var)
    try:
        started.cli("up", *HOSTS)
        yield started
    finally:
        subprocess.run([str(config.ROOT / "bin" / "stack"), "down", *HOSTS], env=env, capture_output=True,
                       timeout=120, check=False)
        shutil.rmtree(var, ignore_errors=True)


def test_jobs_take_effect_exactly_once_while_one_host_is_killed_mid_job_and_restarted(hosts, tmp_path: Path):
    video = make_video(tmp_path / "clip.mp4", seconds=1, size="320x240").read_bytes()
    sound = make_audio(tmp_path / "tone.m4a", seconds=2).read_bytes()
    assets = [uploaded(kind=Kind.VIDEO, body=video, content_type="video/mp4", filename="clip.mp4")
              for _ in range(VIDEOS)]
    assets += [uploaded(kind=Kind.AUDIO, body=sound, content_type="audio/mp4", filename="tone.m4a")
               for _ in range(SOUNDS)]
    jobs = [job_create(asset_id=asset.pk, queue="media") for asset in assets]

    killed: list[str] = []  # the task ids whose run died with the victim
    while len(killed) < KILLS:
        running = wait_until(lambda: hosts.job_dirs(VICTIM), timeout=RUN_TIMEOUT_S, interval=0.02,
                             what=f"{VICTIM} to be mid-job (kill {len(killed) + 1})", explain=hosts.tails)
        time.sleep(0.3)  # into the job: downloading, transcoding or storing
        hosts.cli("kill", VICTIM)
        left = [path for path in running if path.exists()]
        if left:  # it had not finished in the meantime: a run really died mid-job
            killed += [path.name.removeprefix(PREFIX).rsplit("-", 1)[0] for path in left]
        hosts.cli("up", VICTIM)

    def all_final() -> bool:
        return not Job.objects.filter(pk__in=[job.pk for job in jobs]).exclude(
            status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED]).exists()

    wait_until(all_final, timeout=RUN_TIMEOUT_S, interval=0.5, what="every job to finish",
               explain=lambda: str(list(Job.objects.filter(pk__in=[j.pk for j in jobs])
                                        .values_list("pk", "status", "stage", "attempts"))) + "\n" + hosts.tails())

    for asset, job in zip(assets, jobs, strict=True):
        job.refresh_from_db()
        asset.refresh_from_db()
        assert (job.status, job.percent) == (JobStatus.SUCCEEDED, 100), (job.pk, job.error)
        assert list(Job.objects.filter(asset=asset).values_list("pk", flat=True)) == [job.pk], "one job row"
        assert asset.status == Status.READY
        assert asset.renditions_job_id == job.pk
        prefix = f"renditions/{asset.pk}/{job.pk}/"
        assert asset.renditions_prefix == prefix
        listed = {prefix + relative for relative in asset.renditions}
        assert len(listed) == len(asset.renditions), "no rendition listed twice"
        assert rendition_keys(asset) == listed, "every rendition stored once under the job's prefix, nothing else"
        if asset.kind == Kind.VIDEO:
            assert any(key.endswith("master.m3u8") for key in listed)
    # Same input, same outputs, whichever host (and however many attempts) made them.
    for kind in (Kind.VIDEO, Kind.AUDIO):
        assert len({tuple(sorted(a.renditions)) for a in assets if a.kind == kind}) == 1

    by_task = {job.task_id: job for job in Job.objects.filter(pk__in=[j.pk for j in jobs])}
    assert len(killed) >= KILLS
    for task_id in killed:
        assert by_task[task_id].attempts >= 2, "the killed run counted, and another finished the job"
    assert hosts.succeeded("worker-a"), "both hosts did part of the work"
    assert hosts.succeeded("worker-b"), "both hosts did part of the work"
    # (Its temp dir also holds the live worker's own multiprocessing folder and library caches.)
    assert hosts.job_dirs("worker-a") == [], "the surviving host left no run's folder in its temp dir"
    # The victim's dead runs left their folders there; its restarted worker removed them (workdir.sweep).
    assert hosts.job_dirs(VICTIM) == []
    assert Asset.objects.filter(pk__in=[a.pk for a in assets], status=Status.READY).count() == len(assets)
