"""Redis's master SIGKILLed under load, with the portal configured for Sentinel (REDIS_SENTINELS): a real
gunicorn keeps answering cached pages (no 5xx: at worst uncached for the failover's seconds), no queued
task is lost (a real worker started after the failover runs every one), and progress resumes (an event
published after the failover reaches a subscribed stream). Then the killed master is started again and
the stack makes it the master once more, on its own port.

On a Sentinel-managed pair of this test's own (tests/sentinels.py: `bin/stack` with SCALE=2, its own
var/ and ports), never the shared Redis: killing and failing back the server every other test is using
would break them if anything went wrong midway. The stack's own redis-replica and sentinels watch the
shared Redis with the same code; this pair only has other ports and a 1 s failover delay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.urls import reverse

from portal.core.tasks import TaskName
from portal.jobs import broker, progress
from tests.factories import AssetFactory
from tests.jobs.asgi import AsgiStream
from tests.sentinels import SentinelPair, free_ports
from tests.workers.conftest import BROKER_DB, CELERY, PROGRESS_DB, ROOT, Worker, _database_url, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

CACHE_DB = 36
TASKS = 20  # half queued before the kill, half while the master is dead or just replaced
PAGES = ("/", "/browse/")


@pytest.fixture
def pair() -> Iterator[SentinelPair]:
    pair = SentinelPair()
    try:
        yield pair.up()
    finally:
        pair.down()


@pytest.fixture
def web(pair: SentinelPair, tmp_path: Path) -> Iterator[str]:
    """The Procfile's web process, its cache found through the pair's sentinels."""
    port = free_ports(1)[0]
    env = {**os.environ, "DJANGO_ENV": "test", "DATABASE_URL": _database_url(), "GUNICORN_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4", "REDIS_SENTINELS": pair.sentinels,
           "CACHE_URL": f"redis://127.0.0.1:{pair.master_port}/{CACHE_DB}"}
    with (tmp_path / "gunicorn.log").open("w") as log:
        argv = [str(ROOT / ".venv/bin/gunicorn"), "-c", "config/gunicorn.py"]
        server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(f"{base}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(healthy, timeout=120, what="gunicorn to answer", interval=0.2)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


class Load:
    """One visitor asking for the cached pages in a loop; every answer noted with when it was asked."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.answers: list[tuple[float, int]] = []  # (asked at, status; 0: no answer)
        self.running = True
        self.thread = threading.Thread(target=self.browse, daemon=True)

    def browse(self) -> None:
        session = requests.Session()
        while self.running:
            for page in PAGES:
                asked = time.monotonic()
                try:
                    status = session.get(self.base + page, timeout=15).status_code
                except requests.RequestException:
                    status = 0
                self.answers.append((asked, status))

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join(30)


def send_noop(task_id: str) -> None:
    """Queue ops.noop, trying again while the broker is unreachable (what the jobs sweeper does for a job)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with broker._connection() as conn:
                broker.celery_app().send_task(str(TaskName.OPS_NOOP), queue="interactive", task_id=task_id,
                                              connection=conn, retry=True, retry_policy=broker.RETRY_POLICY)
            return
        except broker.BROKER_ERRORS:
            assert time.monotonic() < deadline, "the broker never came back"
            time.sleep(0.2)


def receives(stream: AsgiStream, percent: int, timeout: float = 10.0) -> bool:
    """Whether the stream sends a state with this percent (before the timeout; AssertionError if not)."""
    deadline = time.monotonic() + timeout
    while True:
        frame = stream.next_frame(timeout=max(0.1, deadline - time.monotonic()))
        if frame.event == "state" and json.loads(frame.data)["percent"] == percent:
            return True


def test_killing_the_master_under_load_loses_no_task_no_page_and_no_progress(
        pair: SentinelPair, web: str, settings: Any, editor: Any, client_as: Callable[[Any], Any],
        worker_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Celery prefers these variables to its configuration (workers/celery.py): its broadcasts (the
    # workers' ping) go through the app's producer pool, which must reach the pair too.
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        monkeypatch.setenv(name, pair.url(BROKER_DB))
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = pair.url(BROKER_DB)
    settings.PROGRESS_REDIS_URL = pair.url(PROGRESS_DB)
    AssetFactory.create_batch(3)
    asset = AssetFactory(owner=editor)
    session = django_settings.SESSION_COOKIE_NAME
    cookies = {session: client_as(editor).cookies[session].value}
    stream = AsgiStream(reverse("jobs:asset_stream", args=[asset.pk]), cookies)
    streams = [stream]
    event = {"job_id": 1, "asset_id": asset.pk, "stage": "hls", "status": "running"}
    try:
        assert stream.status == 200
        assert progress.publish(progress.make_event(**event, percent=10)) == progress.PUBLISHED
        assert receives(stream, 10)
        for page in PAGES:  # cached before the kill
            assert requests.get(web + page, timeout=15).status_code == 200

        ids = [uuid.uuid4().hex for _ in range(TASKS)]
        with Load(web) as load:
            for task_id in ids[:TASKS // 2]:
                send_noop(task_id)
            time.sleep(0.5)  # the load runs on a healthy master for a moment
            # Replication is asynchronous: what the replica had not received when the master died is lost
            # (README; jobs.sweep sends a job's task again). This drill is about the failover, so the
            # tasks queued so far are on the replica before the kill: a write of ours acknowledged by it
            # (WAIT) comes after theirs in the replication stream.
            assert pair.replicated() == 1
            killed = time.monotonic()
            pair.kill_master()
            for task_id in ids[TASKS // 2:]:
                send_noop(task_id)
            pair.wait_for_master(pair.replica_port)
            promoted = time.monotonic()
            time.sleep(1.0)  # and on the new master for a moment

        # The portal kept answering: every request got a page, during the failover too.
        statuses = [status for _, status in load.answers]
        assert statuses
        assert set(statuses) == {200}, sorted(set(statuses))
        assert any(killed <= asked <= promoted for asked, _ in load.answers), "no request fell in the failover"

        # Progress resumes: the stream ended when its Redis died (the browser reconnects); a stream opened
        # now is served by the new master, and an event published after the failover reaches it.
        assert stream.wait_closed(timeout=15), "the stream outlived its Redis connection"
        stream = AsgiStream(reverse("jobs:asset_stream", args=[asset.pk]), cookies)
        streams.append(stream)
        assert stream.status == 200
        wait_until(lambda: progress.publish(progress.make_event(**event, percent=60)) == progress.PUBLISHED,
                   timeout=30, what="a progress event to be published on the new master")
        assert receives(stream, 60)

        # No task lost: a real worker, started after the failover, runs each one.
        name = f"failover-{uuid.uuid4().hex[:8]}@test"
        direct = f"redis://127.0.0.1:{pair.master_port}"  # with REDIS_SENTINELS set, only the database counts
        worker = Worker(name=name, log_path=tmp_path / "worker.log",
                        argv=[CELERY, "-A", "workers", "worker", "-Q", "interactive", "-c", "1", "--without-mingle",
                              "--without-gossip", "-n", name, "-l", "INFO"],
                        env={**worker_env, "REDIS_SENTINELS": pair.sentinels,
                             "CELERY_BROKER_URL": f"{direct}/{BROKER_DB}",
                             "CELERY_RESULT_BACKEND": f"{direct}/{BROKER_DB}",
                             "PROGRESS_REDIS_URL": f"{direct}/{PROGRESS_DB}"})
        worker.start()
        try:
            def all_ran() -> bool:
                log = worker.log()
                return all(f"Task {TaskName.OPS_NOOP}[{task_id}] succeeded" in log for task_id in ids)

            def which() -> str:
                log = worker.log()
                return f"not run: tasks {[n for n, task_id in enumerate(ids) if task_id not in log]}\n{worker.tail()}"

            wait_until(all_ran, timeout=120, what=f"the worker to run all {TASKS} tasks", explain=which)

            # Back as it was: the killed master starts again and the stack fails back to it, on its own port.
            assert "master again" in pair.restore()
            assert pair.named_master() == {pair.master_port}
            assert (pair.role(pair.master_port), pair.role(pair.replica_port)) == ("master", "slave")
            # The clients followed the failback too: a page, a task and a progress event after it.
            assert requests.get(web + "/", timeout=15).status_code == 200
            after = uuid.uuid4().hex
            send_noop(after)
            wait_until(lambda: f"[{after}] succeeded" in worker.log(), timeout=60, what="a task after the failback",
                       explain=worker.tail)
        finally:
            worker.stop()
        wait_until(lambda: progress.publish(progress.make_event(**event, percent=90)) == progress.PUBLISHED,
                   timeout=30, what="a progress event to be published after the failback")
        print(f"failover done {promoted - killed:.1f}s after the kill; {len(statuses)} page requests, all 200")
    finally:
        for opened in streams:
            opened.disconnect()
