"""Real Celery workers for the tests: `celery -A workers worker` started as a subprocess, pointed at
this run's test database, a Redis database of its own as the broker, another for progress events,
and this run's private bucket. Stopped by pid (and process group) at teardown, never by name.

The tests use `transactional_db` (the `django_db(transaction=True)` marker): the worker is another
process, so it sees only committed rows.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from portal.integrations import s3
from portal.jobs import broker
from portal.jobs.models import Job
from portal.library.models import Asset, Status
from tests.factories import AssetFactory
from tests.storage import _isolated_storage, test_bucket  # noqa: F401 - autouse fixture and its bucket

# Redis databases of these tests' own: not the developer's (0 cache, 2 broker, 3 progress), not the
# default test broker (4, where other tests queue tasks no worker runs), not tests/jobs' (13, 14): a
# run of those elsewhere can neither steal nor flush these tests' tasks.
BROKER_DB = int(os.environ.get("WORKERS_TEST_BROKER_DB", "7"))
PROGRESS_DB = int(os.environ.get("WORKERS_TEST_PROGRESS_DB", "8"))
# A task of a worker killed without acknowledging it is redelivered after this many seconds. Short
# here so the crash test does not wait four hours (see CELERY_VISIBILITY_TIMEOUT in config/settings).
VISIBILITY_TIMEOUT_S = 12
READY_TIMEOUT_S = 120.0  # a cold worker imports Django and every task module: slow on a busy 2-core box
STOP_TIMEOUT_S = 20.0
POLL_S = 0.1
ROOT = Path(__file__).resolve().parents[2]
# The environment running the tests (.venv, or .venv-es for `make test-es`) runs the workers too.
VENV_BIN = Path(sys.executable).parent
CELERY = str(VENV_BIN / "celery")
# "[2026-11-25 13:58:55,123: INFO/MainProcess] …", or Django's "2026-11-25 13:58:55,123 INFO …".
LOG_TIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})")


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, interval: float = POLL_S,
               explain: Callable[[], str] = lambda: "") -> Any:
    """Poll `check` until it returns something truthy (returned); fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f}s\n{explain()}")
        time.sleep(interval)


def _redis_url(db: int) -> str:
    return f"{django_settings.REDIS_URL.rsplit('/', 1)[0]}/{db}"


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@dataclass
class Worker:
    """One `celery worker` process (and its pool children, in a process group of their own)."""

    name: str  # the node name it answers pings by, e.g. "media@host"
    argv: list[str]
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] = field(init=False)

    def start(self) -> Worker:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.answers, timeout=READY_TIMEOUT_S, interval=0.5, what=f"worker {self.name} to answer a ping",
                   explain=self.tail)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def answers(self) -> bool:
        assert self.alive(), f"worker {self.name} exited with {self.proc.returncode}\n{self.tail()}"
        with broker._connection(pooled=False) as conn:  # a ping does not retry a pooled connection Redis dropped
            replies = broker.celery_app().control.ping(destination=[self.name], timeout=0.5, connection=conn)
        return any(self.name in reply for reply in replies or [])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def group_members(self) -> list[int]:
        """Pids still alive in the worker's process group (its pool children, their ffmpeg)."""
        members = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()
                if int(fields[2]) == self.pid and fields[0] != "Z":  # pgid, not a zombie
                    members.append(int(entry.name))
        return members

    def kill(self) -> None:
        """SIGKILL the whole group, as the OOM killer or a lost machine would: no warm shutdown,
        no acknowledgement, no cleanup."""
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        wait_until(lambda: not self.group_members(), timeout=STOP_TIMEOUT_S, what="the killed worker's children to go")

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL whatever is left of the group."""
        if self.alive():
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT_S)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.pid, sig)  # the group id is the worker's pid (start_new_session)

    def times(self, pattern: str) -> list[datetime]:
        """When each log line matching `pattern` was written, by the line's own timestamp."""
        found = []
        for line in self.log().splitlines():
            if re.search(pattern, line) and (match := LOG_TIME.search(line)):
                found.append(datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f"))
        return found


@pytest.fixture
def broker_redis(settings: Any) -> Iterator[redis.Redis]:
    """The test process sends its tasks where the workers listen (job_enqueue and send_each read
    CELERY_BROKER_URL when they are called)."""
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = _redis_url(BROKER_DB)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    with contextlib.suppress(redis.RedisError):  # a test that stopped Redis has it back, but never fail here
        client.flushdb()
    client.close()


@pytest.fixture
def progress_redis(settings: Any) -> Iterator[redis.Redis]:
    settings.PROGRESS_REDIS_URL = _redis_url(PROGRESS_DB)
    client = redis.Redis.from_url(settings.PROGRESS_REDIS_URL)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    """The workers' PROCESSING_WORK_DIR: this test's own, so what a killed worker leaves is visible."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def worker_env(transactional_db: None, broker_redis: redis.Redis, progress_redis: redis.Redis,
               settings: Any, work_dir: Path) -> dict[str, str]:
    """What a worker process needs to work for this test: its database, Redis databases, bucket and
    working directory."""
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "PROGRESS_REDIS_URL": settings.PROGRESS_REDIS_URL,
        "S3_PRIVATE_BUCKET": settings.S3_PRIVATE_BUCKET,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
        "PROCESSING_WORK_DIR": str(work_dir),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def start_process(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """`start_process(name, argv, **env)`: a Celery node, ready (answering pings); stopped at teardown."""
    started: list[Worker] = []

    def start(name: str, argv: list[str], **extra_env: str) -> Worker:
        worker = Worker(name=name, argv=argv, log_path=tmp_path / f"worker-{len(started)}.log",
                        env={**worker_env, **extra_env})
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def start_worker(start_process: Callable[..., Worker]) -> Callable[..., Worker]:
    """`start_worker("interactive,media", CDN_PURGE_RATE_LIMIT="5/s")`: a ready worker on those
    queues, one pool process, in a process group of its own."""

    def start(queues: str, **extra_env: str) -> Worker:
        name = f"test-{uuid.uuid4().hex[:12]}@{socket.gethostname()}"
        argv = [CELERY, "-A", "workers", "worker", "-Q", queues, "-c", "1", "--without-mingle",
                "--without-gossip", "-n", name, "-l", "INFO"]
        return start_process(name, argv, **extra_env)

    return start


def uploaded(*, kind: str, body: bytes, content_type: str, filename: str = "upload") -> Asset:
    """An asset whose original is in this run's private bucket, as a finalized upload leaves it."""
    asset: Asset = AssetFactory(kind=kind, status=Status.PROCESSING, published_at=None)
    key = f"originals/{asset.pk}/{uuid.uuid4().hex}"
    s3.put(bucket=django_settings.S3_PRIVATE_BUCKET, key=key, body=body, content_type=content_type)
    Asset.objects.filter(pk=asset.pk).update(source_key=key, source_size=len(body), source_type=content_type,
                                             original_filename=filename)
    asset.refresh_from_db()
    return asset


def final(job: Job, *, timeout: float, worker: Worker) -> Job:
    """Wait until the job is succeeded, failed or cancelled; returns it refreshed."""

    def check() -> bool:
        job.refresh_from_db()
        return job.is_final

    wait_until(check, timeout=timeout, what=f"job {job.pk} to finish",
               explain=lambda: f"job: {job.status} {job.stage} {job.percent}% attempts={job.attempts} "
                               f"error={job.error!r}\n{worker.tail()}")
    return job


def rendition_keys(asset: Asset) -> set[str]:
    return {info.key for info in s3.list_objects(bucket=django_settings.S3_PRIVATE_BUCKET,
                                                 prefix=f"renditions/{asset.pk}/")}
