"""Redis (broker and progress pub/sub) stopped mid-job and started again: the job still finishes,
the worker reconnects and serves again, and no progress stream hangs on the dead server.

The stack's Redis keeps nothing on disk (`--save ""`): a restart empties every database, so the
job's own message is gone too. What carries the job through is its row in PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse

from portal.jobs.models import JobStatus
from portal.jobs.services import job_create
from portal.library.models import Kind, Status
from tests.jobs.asgi import AsgiStream
from tests.processing.media import make_photo, make_video
from tests.workers.conftest import final, uploaded, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

CLIP_SECONDS = 90  # about 10 s of HLS encoding on an idle 2-core machine: time to pull Redis away
JOB_TIMEOUT_S = 600.0
STREAM_SETTLE_S = 30.0


@pytest.fixture
def streams() -> Iterator[list[AsgiStream]]:
    opened: list[AsgiStream] = []
    yield opened
    for stream in opened:
        stream.disconnect()


def ends_or_beats(stream: AsgiStream, *, within: float) -> str:
    """"ended" if the server closes the stream, "heartbeats" if it keeps beating; fails if it
    goes silent and stays open (a client left hanging)."""
    deadline = time.monotonic() + within
    beats = 0
    while time.monotonic() < deadline:
        try:
            frame = stream.next_frame(timeout=max(0.1, deadline - time.monotonic()))
        except AssertionError:
            if stream.ended:
                return "ended"
            break
        beats += frame.comment == "heartbeat"
        if beats >= 2:
            return "heartbeats"
    pytest.fail(f"the stream neither ended nor sent heartbeats within {within:.0f}s")


def test_redis_restarted_mid_job_the_job_finishes_the_worker_reconnects_and_streams_do_not_hang(
        start_worker, stopped, streams, editor, client_as, settings, tmp_path: Path):
    settings.PROGRESS_HEARTBEAT_SECONDS = 1
    cookies = {settings.SESSION_COOKIE_NAME: client_as(editor).cookies[settings.SESSION_COOKIE_NAME].value}
    clip = make_video(tmp_path / "long.mp4", seconds=CLIP_SECONDS, size="640x360")
    asset = uploaded(kind=Kind.VIDEO, body=clip.read_bytes(), content_type="video/mp4")
    worker = start_worker("interactive,media")
    job = job_create(asset_id=asset.pk, queue="media")
    url = reverse("jobs:asset_stream", args=[asset.pk])

    def mid_hls() -> bool:
        job.refresh_from_db()
        return job.status == JobStatus.RUNNING and job.stage == "hls" and 10 <= job.percent < 60

    wait_until(mid_hls, timeout=JOB_TIMEOUT_S, what="the job to be mid-HLS",
               explain=lambda: f"{job.status} {job.stage} {job.percent}%\n{worker.tail()}")
    stream = AsgiStream(url, cookies)
    streams.append(stream)
    assert stream.status == 200
    assert stream.frames_until("progress", timeout=10)

    with stopped("redis"):
        at_stop = job.percent

        def moved_on() -> bool:
            job.refresh_from_db()
            return job.is_final or job.percent >= at_stop + 5

        wait_until(moved_on, timeout=JOB_TIMEOUT_S, what="the job to make progress with Redis down",
                   explain=worker.tail)
        assert ends_or_beats(stream, within=STREAM_SETTLE_S)
        late = AsgiStream(url, cookies)  # a stream opened while Redis is down is refused at once
        streams.append(late)
        assert late.status == 503
        assert late.wait_closed(timeout=10)

    job = final(job, timeout=JOB_TIMEOUT_S, worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    asset.refresh_from_db()
    assert asset.status == Status.READY
    assert "progress: could not publish" in worker.log(), "publishing failures are logged..."
    assert worker.alive(), "...and never kill the worker"

    # The worker reconnected to the broker: it takes new work.
    photo = make_photo(tmp_path / "after.jpg", size=(320, 240))
    after = uploaded(kind=Kind.IMAGE, body=photo.read_bytes(), content_type="image/jpeg")
    assert final(job_create(asset_id=after.pk, queue="interactive"), timeout=JOB_TIMEOUT_S,
                 worker=worker).status == JobStatus.SUCCEEDED
    # And a stream opened now works again, starting from the last known state.
    again = AsgiStream(url, cookies)
    streams.append(again)
    assert again.status == 200
