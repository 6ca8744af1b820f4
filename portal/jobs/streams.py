"""The progress streams (Server-Sent Events): one asset's job, and every job for the dashboard.

Async views, served on an event loop, never on a page thread: by the Procfile's `web` process itself
(config/web.py routes STREAM_PATH to Django's ASGI handler) or, where a balancer routes the stream
paths, by the `stream` process. See portal/jobs/README.md for the deployment and sse.py for the stream.

Editors only: anyone else, and any asset the user may not see, gets a 404 (a login redirect is
useless to an EventSource, and the URL must not reveal which assets exist).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from weakref import WeakKeyDictionary

import redis
from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError, connections
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from portal.accounts.models import User
from portal.jobs import progress, selectors, sse
from portal.jobs.presentation import ProgressView
from portal.library.models import Asset

log = logging.getLogger(__name__)
# The stream URLs (portal/jobs/urls.py under /studio/), as the web entry (config/web.py) and the
# balancer (deploy/nginx/balancer-locations.conf.template) route them; tests/jobs/test_stream_routing.py
# checks all three agree.
STREAM_PATH = re.compile(r"^/studio/(jobs/stream|assets/[0-9]+/progress/stream)$")


def is_stream_path(path: str) -> bool:
    return STREAM_PATH.match(path) is not None


def may_watch(user: User | AnonymousUser, asset_id: int | None) -> bool:
    if not getattr(user, "is_editor", False):
        return False
    return asset_id is None or Asset.objects.visible_to(user).filter(pk=asset_id).exists()


def _authorize(user: User | AnonymousUser, asset_id: int | None) -> progress.ProgressEvent | None:
    """Permission check, and the job's row as the fallback last state, in one hop to a thread.

    Closes the database connection before the stream starts: under ASGI every request runs its
    sync code on a thread of its own, so a connection left open would stay open, idle, for as
    long as the stream lasts (hundreds of streams would exhaust PostgreSQL's connections).
    """
    try:
        if not may_watch(user, asset_id):
            raise Http404("No such asset.")
        if asset_id is None:
            return None
        job = selectors.job_latest_for_asset(asset_id=asset_id)
        return progress.event_for(job) if job is not None else None
    finally:
        connections.close_all()


# Rendered once per event and process, not once per open stream: every editor watching the same
# asset (and every dashboard) gets the same HTML, and rendering is most of a stream's CPU cost.
@lru_cache(maxsize=256)
def render_status(raw: str) -> str:
    event = progress.decode(raw)
    assert event is not None  # the feed decoded it before
    return render_to_string("jobs/_progress.html#status", {"p": ProgressView.from_event(event), "streamed": True})


@lru_cache(maxsize=256)
def render_cell(raw: str) -> str:
    event = progress.decode(raw)
    assert event is not None
    return render_to_string("jobs/dashboard.html#cell", {"p": ProgressView.from_event(event)})


def _event_stream(response_body: Iterator[bytes] | AsyncIterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(response_body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _unavailable() -> HttpResponse:
    # The EventSource errors, and the page's progress.js switches to polling the database.
    return HttpResponse("Progress stream unavailable.\n", status=503, content_type="text/plain",
                        headers={"Retry-After": "5"})


async def _open(request: HttpRequest, channel: str, last_key: str | None, feed: sse.Feed,
                fallback: progress.ProgressEvent | None) -> HttpResponseBase:
    # Under ASGI the stream runs on the server's loop; under WSGI (runserver) on sse's loop thread,
    # since the loop running this view ends with it.
    asgi = isinstance(request, ASGIRequest)
    loop = asyncio.get_running_loop() if asgi else sse.wsgi_loop()
    try:
        pubsub, client, raw = await sse.on_loop(sse.asubscribe(channel, last_key), loop)
    except redis.RedisError:
        log.warning("progress stream: cannot subscribe to %s", channel, exc_info=True)
        return _unavailable()
    chunks = sse.apump(pubsub, client, feed, _first(feed, raw, fallback))
    return _event_stream(chunks if asgi else sse.blocking(chunks, loop))


def _first(feed: sse.Feed, raw: bytes | None, fallback: progress.ProgressEvent | None) -> bytes:
    """The last known state: Redis's copy, or the job's row when Redis has none (expired, flushed)."""
    if raw is not None and progress.decode(raw) is not None:
        return feed.frames(raw)
    if fallback is not None:
        return feed.frames(progress.encode(fallback))
    return b""


# How many streams of one process may be checking permissions at once. Each check runs on a
# thread of its own with a database connection of its own (ASGI), so a burst of page loads (a
# deploy restarting the stream process: every open page reconnects at once) would otherwise open
# hundreds of PostgreSQL connections in the same second and exhaust them.
DB_CONCURRENCY = 8
_gates: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()  # a semaphore belongs to one event loop (tests run several)
    if loop not in _gates:
        _gates[loop] = asyncio.Semaphore(DB_CONCURRENCY)
    return _gates[loop]


async def _check(request: HttpRequest, asset_id: int | None) -> progress.ProgressEvent | None:
    async with _gate():
        user = await request.auser()
        return await sync_to_async(_authorize)(user, asset_id)


@require_GET
async def asset_stream(request: HttpRequest, asset_id: int) -> HttpResponseBase:
    try:
        fallback = await _check(request, asset_id)
    except DatabaseError:
        log.warning("progress stream: database unavailable", exc_info=True)
        return _unavailable()
    return await _open(request, progress.asset_channel(asset_id), progress.last_state_key(asset_id),
                       sse.AssetFeed(render_status), fallback)


@require_GET
async def dashboard_stream(request: HttpRequest) -> HttpResponseBase:
    try:
        await _check(request, None)
    except DatabaseError:
        log.warning("progress stream: database unavailable", exc_info=True)
        return _unavailable()
    return await _open(request, progress.DASHBOARD_CHANNEL, None, sse.DashboardFeed(render_cell), None)
