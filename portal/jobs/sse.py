"""Server-Sent Events of progress: framing, what each stream sends, and the one loop that pumps
Redis pub/sub messages into a response.

The stream is written once, async, on `redis.asyncio`. Under ASGI (uvicorn, the Procfile's
`stream` process) it runs on the server's own event loop: an open stream costs a socket and a
coroutine, never a thread, so hundreds of editors watching progress cannot starve page serving.
Under WSGI (runserver in development, or a stream routed to gunicorn by mistake) the same stream
runs on one event loop thread of the process and the request's thread waits for each chunk
(`blocking`): one thread per stream, fine for one developer.

Each stream sends `retry:` and the last known state first, then every change, a heartbeat
comment after each PROGRESS_HEARTBEAT_SECONDS of silence (so proxies and the browser keep the
connection), and ends after a final state (asset streams), after STREAM_MAX_SECONDS (the
browser reconnects, which spreads streams over restarted processes), on a Redis error (the
page falls back to polling), or when the client goes away (Django cancels or closes the iterator).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Any, Protocol, TypeVar, cast

import redis
import redis.asyncio as aredis
from django.conf import settings

from portal.integrations import redis_client
from portal.jobs.progress import decode

log = logging.getLogger(__name__)

RETRY_MS = 3000
STREAM_MAX_SECONDS = 30 * 60
CONNECT_TIMEOUT_S = 1.0
SOCKET_TIMEOUT_S = 5.0
HEARTBEAT = b": heartbeat\n\n"
Render = Callable[[str], str]  # the event's JSON text -> HTML (cacheable: the same text for every stream)


def frame(event: str, data: str) -> bytes:
    """One SSE message; every line of data gets its own `data:` field (HTML may span lines)."""
    lines = "".join(f"data: {line}\n" for line in (data.splitlines() or [""]))
    return f"event: {event}\n{lines}\n".encode()


def opening() -> bytes:
    # The comment makes the response start at once, so the client sees the stream open.
    return f"retry: {RETRY_MS}\n: progress stream\n\n".encode()


class Feed(Protocol):
    done: bool

    def frames(self, raw: bytes | str) -> bytes: ...


class AssetFeed:
    """One asset: `state` (the event's JSON), `progress` (the panel's status HTML), and after a
    final state `done`, which the page's `sse-close` uses to close the EventSource for good."""

    def __init__(self, render: Render) -> None:
        self.render = render
        self.last: str | None = None
        self.done = False

    def frames(self, raw: bytes | str) -> bytes:
        text = raw.decode() if isinstance(raw, bytes) else raw
        event = decode(text)
        if event is None or text == self.last:  # the last state may also arrive as a message
            return b""
        self.last = text
        chunk = frame("state", text) + frame("progress", self.render(text))
        if event["status"] in ("succeeded", "failed", "cancelled"):
            self.done = True
            chunk += frame("done", text)
        return chunk


class DashboardFeed:
    """All jobs: `state` (JSON), `job-<id>` (that row's progress cell, swapped in place), and
    `changed` when a job's status differs from what this stream last saw (the table refetches)."""

    SEEN_MAX = 10_000

    def __init__(self, render_cell: Render) -> None:
        self.render_cell = render_cell
        self.statuses: dict[int, str] = {}
        self.done = False  # the dashboard stream ends only with the client (or its max age)

    def frames(self, raw: bytes | str) -> bytes:
        text = raw.decode() if isinstance(raw, bytes) else raw
        event = decode(text)
        if event is None:
            return b""
        job = int(event["job"])
        chunk = frame("state", text) + frame(f"job-{job}", self.render_cell(text))
        if self.statuses.get(job) != event["status"]:
            if len(self.statuses) >= self.SEEN_MAX:
                self.statuses.clear()
            self.statuses[job] = event["status"]
            chunk += frame("changed", text)
        return chunk


class _Clock:
    """When the next heartbeat is due and when the stream must end."""

    def __init__(self) -> None:
        self.heartbeat_s = float(settings.PROGRESS_HEARTBEAT_SECONDS)
        now = time.monotonic()
        self.next_beat = now + self.heartbeat_s
        self.deadline = now + STREAM_MAX_SECONDS

    def sent(self) -> None:
        self.next_beat = time.monotonic() + self.heartbeat_s

    def wait_s(self) -> float:
        """How long to wait for a message; <= 0 means the stream is over."""
        now = time.monotonic()
        if now >= self.deadline:
            return 0.0
        return max(0.01, min(self.next_beat, self.deadline) - now)

    def beat_due(self) -> bool:
        return time.monotonic() >= self.next_beat


async def asubscribe(channel: str, last_key: str | None) -> tuple[aredis.client.PubSub, aredis.Redis, bytes | None]:
    """Subscribe first, then read the last state, so no change can fall between the two.
    Raises redis.RedisError: the view answers 503 and the page polls instead."""
    client = redis_client.async_client(settings.PROGRESS_REDIS_URL, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                       socket_timeout=SOCKET_TIMEOUT_S)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(channel)
        last = await client.get(last_key) if last_key else None
        # The GET's connection is idle now: close it, so a stream holds one connection, not two.
        await client.connection_pool.disconnect(inuse_connections=False)
    except BaseException:
        await _aclose(pubsub, client)
        raise
    return pubsub, client, last


async def _aclose(pubsub: aredis.client.PubSub, client: aredis.Redis) -> None:
    # aclose() (redis-py >= 5) is newer than the typing stubs of types-redis, hence the casts.
    await cast("Any", pubsub).aclose()
    await redis_client.aclose(client)


async def apump(pubsub: aredis.client.PubSub, client: aredis.Redis, feed: Feed,
                first: bytes) -> AsyncGenerator[bytes, None]:
    clock = _Clock()
    try:
        yield opening() + first
        while not feed.done:
            wait = clock.wait_s()
            if wait <= 0:
                break
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)
            chunk = feed.frames(message["data"]) if message and message.get("type") == "message" else b""
            if chunk:
                clock.sent()
                yield chunk
            elif clock.beat_due():
                clock.sent()
                yield HEARTBEAT
    except redis.RedisError:
        log.warning("progress stream: Redis failed, closing the stream (the page will poll)", exc_info=True)
    finally:
        # Runs on a final state, on error and when the client left (Django cancels or closes us).
        await _aclose(pubsub, client)


# --- WSGI: the same stream on a loop thread of this process ------------------------------------------

T = TypeVar("T")
_loop_lock = threading.Lock()
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None  # (pid, loop): a forked child makes its own


def wsgi_loop() -> asyncio.AbstractEventLoop:
    """The event loop that runs this process's streams under WSGI, in a daemon thread of its own."""
    global _loop  # one per process, guarded by its lock
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="progress-streams", daemon=True).start()
            _loop = (os.getpid(), loop)
        return _loop[1]


async def on_loop(work: Awaitable[T], loop: asyncio.AbstractEventLoop) -> T:
    """Await `work` on `loop` (the stream's Redis objects belong to the loop that made them)."""
    if loop is asyncio.get_running_loop():
        return await work
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_awaited(work), loop))


async def _awaited(work: Awaitable[T]) -> T:
    return await work


def blocking(chunks: AsyncGenerator[bytes, None], loop: asyncio.AbstractEventLoop) -> Iterator[bytes]:
    """The async stream as a blocking iterator for WSGI: each chunk is made on `loop` while the
    request's thread waits for it."""

    async def next_chunk() -> bytes | None:
        try:
            return await chunks.__anext__()
        except StopAsyncIteration:
            return None

    try:
        while (chunk := asyncio.run_coroutine_threadsafe(next_chunk(), loop).result()) is not None:
            yield chunk
    finally:
        # Ended, or the client went away (the server closes us): the pump closes Redis on its loop.
        asyncio.run_coroutine_threadsafe(chunks.aclose(), loop).result(timeout=SOCKET_TIMEOUT_S)
