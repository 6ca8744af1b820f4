"""The progress streams under ASGI (config.asgi.application, as uvicorn runs it), real Redis."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from portal.jobs import progress, services, sse
from tests.factories import UserFactory
from tests.jobs.asgi import AsgiStream

pytestmark = pytest.mark.django_db(transaction=True)  # the app reads the rows from its own threads


@pytest.fixture
def cookies_of(client_as, settings):
    def make(user):
        return {settings.SESSION_COOKIE_NAME: client_as(user).cookies[settings.SESSION_COOKIE_NAME].value}

    return make


@pytest.fixture
def open_stream():
    streams: list[AsgiStream] = []

    def make(path, cookies=None):
        streams.append(AsgiStream(path, cookies or {}))
        return streams[-1]

    yield make
    for stream in streams:
        stream.disconnect()


@pytest.fixture
def asset(asset_factory):
    return asset_factory(title="Night ferry")


@pytest.fixture
def running(asset):
    job = services.job_create(asset_id=asset.pk, queue="media")
    services.job_start(job_id=job.pk)
    services.job_progress(job_id=job.pk, stage="hls", percent=30)
    return job


def url(asset_id):
    return reverse("jobs:asset_stream", args=[asset_id])


def states(frames):
    return [json.loads(frame.data) for frame in frames if frame.event == "state"]


def test_sends_the_last_known_state_first_then_each_change_then_closes_after_the_final_state(
        running, editor, cookies_of, open_stream):
    stream = open_stream(url(running.asset_id), cookies_of(editor))
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream"
    assert stream.headers["x-accel-buffering"] == "no"
    assert stream.next_frame().comment == "progress stream"
    first = stream.frames_until("progress")
    assert [(s["stage"], s["percent"], s["status"]) for s in states(first)] == [("hls", 30, "running")]
    assert 'value="30"' in first[-1].data
    assert "Making streaming versions" in first[-1].data

    services.job_progress(job_id=running.pk, stage="hls", percent=55)
    change = stream.frames_until("progress")
    assert states(change)[0]["percent"] == 55

    services.job_succeed(job_id=running.pk)
    final = stream.frames_until("done")
    assert states(final)[0]["status"] == "succeeded"
    ready = next(f.data for f in final if f.event == "progress")
    assert "ready" in ready
    assert f'hx-get="{reverse("studio:asset_preview", args=[running.asset_id])}"' in ready  # the player swaps in
    assert stream.wait_closed(), "the stream must end after the final state"


def test_a_heartbeat_comment_keeps_a_quiet_stream_open(running, editor, cookies_of, open_stream, settings):
    settings.PROGRESS_HEARTBEAT_SECONDS = 0.3
    stream = open_stream(url(running.asset_id), cookies_of(editor))
    stream.frames_until("progress")
    started = time.monotonic()
    assert stream.next_frame(timeout=2).comment == "heartbeat"
    assert stream.next_frame(timeout=2).comment == "heartbeat"
    assert 0.4 < time.monotonic() - started < 2


def test_a_job_already_final_is_sent_once_and_the_stream_ends(running, editor, cookies_of, open_stream):
    services.job_fail(job_id=running.pk, reason="The file is not a video.")
    stream = open_stream(url(running.asset_id), cookies_of(editor))
    frames = stream.frames_until("done")
    assert states(frames)[0]["error"] == "The file is not a video."
    assert stream.wait_closed()


def test_without_a_stored_state_the_stream_starts_from_the_jobs_row(running, editor, cookies_of, open_stream,
                                                                      progress_redis):
    progress_redis.delete(progress.last_state_key(running.asset_id))
    stream = open_stream(url(running.asset_id), cookies_of(editor))
    assert [(s["job"], s["percent"]) for s in states(stream.frames_until("progress"))] == [(running.pk, 30)]


def test_the_subscription_ends_when_the_client_goes_away(running, editor, cookies_of, progress_redis):
    channel = progress.asset_channel(running.asset_id)
    before = dict(progress_redis.pubsub_numsub(channel))[channel.encode()]
    stream = AsgiStream(url(running.asset_id), cookies_of(editor))
    stream.frames_until("progress")
    assert dict(progress_redis.pubsub_numsub(channel))[channel.encode()] == before + 1
    stream.disconnect()
    assert dict(progress_redis.pubsub_numsub(channel))[channel.encode()] == before


@pytest.mark.parametrize("who", ["anonymous", "visitor"])
def test_only_editors_may_watch(running, who, cookies_of, open_stream):
    cookies = cookies_of(UserFactory()) if who == "visitor" else {}
    for path in (url(running.asset_id), reverse("jobs:dashboard_stream")):
        stream = open_stream(path, cookies)
        assert stream.status == 404
        assert stream.wait_closed()


def test_an_unknown_asset_is_404_for_editors_too(editor, cookies_of, open_stream):
    assert open_stream(url(999_999), cookies_of(editor)).status == 404


def test_redis_down_answers_503_so_the_page_polls(running, editor, cookies_of, open_stream, settings):
    settings.PROGRESS_REDIS_URL = "redis://127.0.0.1:1/0"
    stream = open_stream(url(running.asset_id), cookies_of(editor))
    assert stream.status == 503


def test_the_dashboard_stream_sends_row_cells_and_a_change_signal(asset_factory, editor, cookies_of, open_stream):
    stream = open_stream(reverse("jobs:dashboard_stream"), cookies_of(editor))
    assert stream.next_frame().comment == "progress stream"
    job = services.job_create(asset_id=asset_factory().pk, queue="media")
    created = stream.frames_until("changed")
    assert [f.event for f in created] == ["state", f"job-{job.pk}", "changed"]
    services.job_start(job_id=job.pk)
    stream.frames_until("changed")
    services.job_progress(job_id=job.pk, stage="thumbnails", percent=12)
    frames = [stream.next_frame(), stream.next_frame()]
    assert [f.event for f in frames] == ["state", f"job-{job.pk}"]  # progress alone: no refetch
    assert "12 %" in frames[1].data
    assert "Making thumbnails" in frames[1].data


def test_under_wsgi_runserver_streams_with_a_blocking_iterator(running, editor, client_as):
    services.job_succeed(job_id=running.pk)
    response = client_as(editor).get(url(running.asset_id))
    assert response.streaming
    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()  # ends by itself after the final state
    assert "event: state" in body
    assert "event: done" in body


def test_under_wsgi_the_stream_is_the_async_one_and_ends_its_subscription_when_closed(running, editor, client_as,
                                                                                       progress_redis):
    assert not hasattr(sse, "pump")  # one stream, not a sync copy of it
    channel = progress.asset_channel(running.asset_id)

    def subscribers() -> int:
        return dict(progress_redis.pubsub_numsub(channel))[channel.encode()]

    before = subscribers()
    response = client_as(editor).get(url(running.asset_id))
    chunks = iter(response.streaming_content)
    assert b"event: state" in next(chunks)
    assert subscribers() == before + 1
    services.job_progress(job_id=running.pk, stage="hls", percent=70)
    assert b'value="70"' in next(chunks)  # a change, pumped live through the blocking iterator
    response.close()  # the client went away
    assert subscribers() == before
