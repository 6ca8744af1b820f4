"""Drives `config.asgi.application` the way uvicorn does, for one streaming GET.

The application runs on an event loop in a thread of its own, so a test stays synchronous and
can call services (which use the ORM) while the stream is open, and read what the server sent
as it arrives. Disconnecting sends `http.disconnect`, as a browser closing the tab would.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from config.asgi import application

END = object()


@dataclass
class Frame:
    event: str = "message"
    data: str = ""
    comment: str = ""


@dataclass
class AsgiStream:
    path: str
    cookies: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ended: bool = False

    def __post_init__(self) -> None:
        self._chunks: queue.Queue[Any] = queue.Queue()
        self._started = threading.Event()
        self._buffer = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._disconnect: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        assert self._started.wait(10), "the application never started its response"

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._disconnect = asyncio.Event()
        requested = False
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": self.path, "raw_path": self.path.encode(), "query_string": b"",
            "root_path": "", "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
            "headers": [(b"host", b"testserver"), (b"accept", b"text/event-stream"), (b"cookie", cookie.encode())],
        }

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            assert self._disconnect is not None
            await self._disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
                self._started.set()
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    self._chunks.put(message["body"].decode())
                if not message.get("more_body", False):
                    self._chunks.put(END)

        try:
            await application(scope, receive, send)
        finally:
            self._started.set()
            self._chunks.put(END)

    def next_frame(self, timeout: float = 3.0) -> Frame:
        """The next complete SSE message or comment; AssertionError when none comes in time."""
        deadline = time.monotonic() + timeout
        while "\n\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            assert not self.ended, f"the stream ended (buffer: {self._buffer!r})"
            assert remaining > 0, f"no frame within {timeout}s (buffer: {self._buffer!r})"
            try:
                chunk = self._chunks.get(timeout=remaining)
            except queue.Empty:
                continue
            if chunk is END:
                self.ended = True
                continue
            self._buffer += chunk
        block, self._buffer = self._buffer.split("\n\n", 1)
        frame, data = Frame(), []
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                frame.comment = value
            elif name == "event":
                frame.event = value
            elif name == "data":
                data.append(value)
        frame.data = "\n".join(data)
        return frame

    def frames_until(self, event: str, timeout: float = 3.0) -> list[Frame]:
        frames = [self.next_frame(timeout)]
        while frames[-1].event != event:
            frames.append(self.next_frame(timeout))
        return frames

    def body(self) -> str:
        while True:
            chunk = self._chunks.get(timeout=5)
            if chunk is END:
                return self._buffer
            self._buffer += chunk

    def wait_closed(self, timeout: float = 3.0) -> bool:
        """True when the server ended the response by itself."""
        deadline = time.monotonic() + timeout
        while not self.ended and time.monotonic() < deadline:
            try:
                chunk = self._chunks.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                continue
            if chunk is END:
                self.ended = True
            else:
                self._buffer += chunk
        return self.ended

    def disconnect(self) -> None:
        if self._loop is not None and self._disconnect is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._disconnect.set)
        self._thread.join(5)
        assert not self._thread.is_alive(), "the application did not finish after the client left"
